#include "scanner/catalogue.hpp"
#include "tests/unit/scanner/rootfs_fixture.hpp"

#include <doctest/doctest.h>

using namespace kiln::scanner;

TEST_CASE("os-release gives the OSV ecosystem")
{
  auto deb = parse_os_release(
      "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n");
  CHECK(deb.ecosystem == "Debian:12");
  CHECK(deb.pretty_name == "Distroless");
  CHECK(parse_os_release("ID=alpine\nVERSION_ID=3.19.1\n").ecosystem == "Alpine:v3.19");
  CHECK(parse_os_release("ID='debian'\nVERSION_ID='11'\n").ecosystem == "Debian:11");
  auto sid = parse_os_release("ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n");
  CHECK(sid.ecosystem.empty());
  CHECK(sid.version_id.empty());
}

TEST_CASE("dpkg status: installed entries only, source mapping, broken paragraphs reported")
{
  const char* status =
      "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\n"
      "Version: 3.0.11-1~deb12u2\n\n"
      "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nSource: bash (5.2.15-2)\n"
      "Version: 5.2.15-2+b8\n\n"
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
      "Package: never\nStatus: purge ok not-installed\n\n"
      "Package: broken\nStatus: install ok installed\n oops\nthis line has no colon\nVersion: 1\n\n"
      "Package: noversion\nStatus: install ok installed\n\n"
      "Package: badstatus\nStatus: installed\nVersion: 1\n\n"
      "Package: clang\nStatus: hold ok installed\nArchitecture: amd64\n"
      "Source: llvm-defaults (0.55.7~deb12u1)\nVersion: 1:14.0-55.7~deb12u1\n";
  std::vector<Package> out;
  std::vector<std::string> warnings;
  parse_dpkg(status, "var/lib/dpkg/status", StatusField::required, out, warnings);
  REQUIRE(out.size() == 3);
  CHECK(out[0].name == "libssl3");
  CHECK(out[0].source_name == "openssl");
  CHECK(out[0].source_version == "3.0.11-1~deb12u2");
  CHECK(out[1].source_name == "bash");
  CHECK(out[1].source_version == "5.2.15-2");
  CHECK(out[1].version == "5.2.15-2+b8");
  CHECK(out[2].source_name == "llvm-defaults");
  CHECK(out[2].source_version == "0.55.7~deb12u1");
  CHECK(out[2].arch == "amd64");
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0] ==
        "var/lib/dpkg/status: paragraph at line 20 (broken): line 23: not a \"Field: value\" line; skipped");
  CHECK(warnings[1] == "var/lib/dpkg/status: paragraph at line 26 (noversion): no Version field; skipped");
  CHECK(warnings[2] == "var/lib/dpkg/status: paragraph at line 29 (badstatus): Status is not \"<want> <flag> "
                       "<state>\"; skipped");
}

TEST_CASE("apk installed DB")
{
  std::vector<Package> out;
  std::vector<std::string> warnings;
  parse_apk_installed(
      "C:Q1x\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\n\nP:libcrypto3\nV:3.1.4-r5\no:openssl\n\n"
      "P:nover\n",
      "lib/apk/db/installed", out, warnings);
  REQUIRE(out.size() == 2);
  CHECK(out[0].licence == "MIT");
  CHECK(out[1].source_name == "openssl");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "lib/apk/db/installed: record at line 12: no V: line; skipped");
}

TEST_CASE("Python metadata and npm manifests")
{
  auto p = parse_python_metadata(
      "Metadata-Version: 2.1\nname: Jinja2\nVersion: 2.10\nName: other\n\nVersion: 9\n", "x");
  REQUIRE(p);
  CHECK(p->name == "Jinja2");
  CHECK(p->version == "2.10");
  CHECK_FALSE(parse_python_metadata("Metadata-Version: 2.1\n\nName: late\nVersion: 1\n", "x"));

  auto n = parse_npm_package(R"({"name":"@babel/core","version":"7.24.0","license":"MIT"})", "y");
  REQUIRE(n);
  CHECK(n->name == "@babel/core");
  CHECK_FALSE(parse_npm_package(R"({"type":"module"})", "y"));
  CHECK_FALSE(parse_npm_package(R"({"name":"a","version":1})", "y"));
  CHECK_FALSE(parse_npm_package("not json", "y"));
}

TEST_CASE("a distroless rootfs is catalogued completely, and Debian owns its Python packages")
{
  RootfsFixture root;
  root.put("usr/lib/os-release", "PRETTY_NAME=\"Distroless\"\nID=debian\nVERSION_ID=\"12\"\n");
  root.link("etc/os-release", "../usr/lib/os-release");
  root.put("var/lib/dpkg/status.d/libffi8",
           "Package: libffi8\nSource: libffi\nVersion: 3.4.4-1\nArchitecture: amd64\nMulti-Arch: same\n"
           "Depends: libc6 (>= 2.34)\n");
  root.put("var/lib/dpkg/status.d/libffi8.md5sums",
           "0123456789abcdef0123456789abcdef  usr/lib/x86_64-linux-gnu/libffi.so.8\n");
  root.put("var/lib/dpkg/status.d/base-files",
           "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n");
  root.put("var/lib/dpkg/status.d/tzdata", "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n");
  root.put("var/lib/dpkg/status.d/python3-starlette",
           "Package: python3-starlette\nSource: starlette\nVersion: 0.26.1-1+deb12u2\nArchitecture: all\n");
  root.put("var/lib/dpkg/status.d/python3-starlette.md5sums",
           "00000000000000000000000000000000  "
           "usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA\n");
  root.put("usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA",
           "Name: starlette\nVersion: 0.26.1\n");
  root.put("opt/venv/lib/python3.11/site-packages/Jinja2-2.10.dist-info/METADATA",
           "Name: Jinja2\nVersion: 2.10\n");
  root.put("usr/lib/python3/dist-packages/old-1.0.egg-info", "Name: old\nVersion: 1.0\n");
  root.put("srv/x/zope.interface-5.0-py3.11.egg-info/PKG-INFO", "Name: zope.interface\nVersion: 5.0\n");
  root.put("app/node_modules/@babel/core/package.json", R"({"name":"@babel/core","version":"7.24.0"})");
  root.put("app/node_modules/lodash/package.json", R"({"name":"lodash","version":"4.17.21"})");
  root.put("app/node_modules/lodash/node_modules/x/package.json", R"({"name":"x","version":"1.0.0"})");
  root.put("app/node_modules/lodash/esm/package.json", R"({"type":"module"})");
  root.put("app/package.json", R"({"name":"app","version":"1.0.0"})");
  // Links that try to leave the root lead nowhere (or back inside it).
  root.link("app/node_modules/evil", "/../../../../etc");
  root.link("srv/escape.dist-info", "../../../../../../tmp");

  auto rootfs = Rootfs::open(root.path());
  REQUIRE(rootfs);
  auto cat = catalogue(*rootfs);
  CHECK(cat.distro.ecosystem == "Debian:12");
  CHECK(cat.distro.pretty_name == "Distroless");
  for (const auto& w : cat.warnings) {
    MESSAGE("warning: " << w);
  }
  CHECK(cat.warnings.empty());
  std::vector<std::string> names;
  for (const auto& p : cat.packages) {
    names.push_back(p.name + "@" + p.version);
  }

  CHECK(names == std::vector<std::string>{"base-files@12.4+deb12u5", "libffi8@3.4.4-1",
                                          "python3-starlette@0.26.1-1+deb12u2", "tzdata@2024a-0+deb12u1",
                                          "@babel/core@7.24.0", "x@1.0.0", "lodash@4.17.21", "Jinja2@2.10",
                                          "zope.interface@5.0", "old@1.0", "starlette@0.26.1"});
  const auto& libffi = cat.packages[1];
  CHECK(libffi.source_name == "libffi");
  CHECK(libffi.arch == "amd64");
  CHECK(libffi.location == "var/lib/dpkg/status.d/libffi8");
  const auto& starlette = cat.packages.back();
  REQUIRE(starlette.owner);
  CHECK(cat.packages[*starlette.owner].name == "python3-starlette");
  CHECK(starlette.location == "usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA");
  CHECK_FALSE(cat.packages[7].owner);
}

TEST_CASE("classic dpkg: info/*.list ownership, status and status.d de-duplicated")
{
  RootfsFixture root;
  root.put("etc/os-release", "ID=debian\n");
  root.put("var/lib/dpkg/status", "Package: python3-jinja2\nStatus: install ok installed\nVersion: 3.1.2-1\n"
                                  "Architecture: all\nSource: jinja2\n");
  root.put("var/lib/dpkg/status.d/python3-jinja2",
           "Package: python3-jinja2\nVersion: 3.1.2-1\nArchitecture: all\n");
  root.put("var/lib/dpkg/info/python3-jinja2.list",
           "/.\n/usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info\n/usr/lib/python3/dist-packages/"
           "Jinja2-3.1.2.egg-info/PKG-INFO\n");
  root.put("usr/lib/python3/dist-packages/Jinja2-3.1.2.egg-info/PKG-INFO", "Name: Jinja2\nVersion: 3.1.2\n");
  auto rootfs = Rootfs::open(root.path());
  REQUIRE(rootfs);
  auto cat = catalogue(*rootfs);
  REQUIRE(cat.packages.size() == 2);
  CHECK(cat.packages[0].location == "var/lib/dpkg/status");
  CHECK(cat.packages[1].owner == 0u);
  REQUIRE(cat.warnings.size() == 1);
  CHECK(cat.warnings[0].find("no VERSION_ID") != std::string::npos);
}
