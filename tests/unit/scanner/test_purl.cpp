#include "scanner/purl.hpp"

#include <doctest/doctest.h>

using namespace kiln::scanner;

namespace {

Package make(PackageType type, const char* name, const char* version, const char* arch = "",
             const char* source = "", const char* source_version = "")
{
  Package p;
  p.type = type;
  p.name = name;
  p.version = version;
  p.arch = arch;
  p.source_name = source;
  p.source_version = source_version;
  return p;
}

} // namespace

TEST_CASE("purls as specs/scanning.md §6.1 spells them")
{
  Distro debian{"debian", "12", "Debian GNU/Linux 12", "Debian:12"};
  Package star = make(PackageType::deb, "python3-starlette", "0.26.1-1+deb12u2", "all", "python3-starlette",
                      "0.26.1-1+deb12u2");
  CHECK(purl(star, debian) ==
        "pkg:deb/debian/python3-starlette@0.26.1-1%2Bdeb12u2?arch=all&distro=debian-12");
  Package attr = make(PackageType::deb, "attr", "1:2.4.47-2+b1", "amd64", "attr", "1:2.4.47-2+b1");
  CHECK(purl(attr, Distro{"debian", "", "", ""}) == "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64");
  Package ssl = make(PackageType::deb, "libssl3", "3.0.11-1~deb12u2", "amd64", "openssl", "3.0.11-1~deb12u2");
  CHECK(purl(ssl, debian) ==
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl");
  Package bash = make(PackageType::deb, "bash", "5.2.15-2+b8", "amd64", "bash", "5.2.15-2");
  CHECK(purl(bash, debian) ==
        "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2");

  Package django = make(PackageType::python, "Django_package", "1.0+local");
  CHECK(purl(django, debian) == "pkg:pypi/django-package@1.0%2Blocal");
  Package babel = make(PackageType::npm, "@babel/core", "7.24.0");
  CHECK(purl(babel, debian) == "pkg:npm/%40babel/core@7.24.0");
  Package lodash = make(PackageType::npm, "lodash", "4.17.21");
  CHECK(purl(lodash, debian) == "pkg:npm/lodash@4.17.21");
  CHECK(purl_encode("a b/c@d~e:f") == "a%20b%2Fc%40d~e:f");
}
