#include "scanner/version_pep440.hpp"
#include "tests/unit/scanner/compare.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace kiln::scanner;

TEST_CASE("PEP 440 ordering facts")
{
  std::vector<std::string> sorted{"1.0.dev456", "1.0a0.dev1", "1.0a1",     "1.0a1.post1",    "1.0b1",
                                  "1.0rc1",     "1.0",        "1.0+local", "1.0.post1.dev1", "1.0.post1"};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    CHECK_MESSAGE(cmp<Pep440Version>(sorted[i], sorted[i + 1]) < 0, sorted[i] << " < " << sorted[i + 1]);
    CHECK_MESSAGE(cmp<Pep440Version>(sorted[i + 1], sorted[i]) > 0, sorted[i + 1] << " > " << sorted[i]);
  }
  CHECK(cmp<Pep440Version>("1.0", "1.0.0") == 0);
  CHECK(cmp<Pep440Version>("1.0", "1.0.0.0.0") == 0);
  CHECK(cmp<Pep440Version>("1.0c1", "1.0rc1") == 0);
  CHECK(cmp<Pep440Version>("1.0-1", "1.0.post1") == 0);
  CHECK(cmp<Pep440Version>("v1.0", "1.0") == 0);
  CHECK(cmp<Pep440Version>("1.0_rc.1", "1.0rc1") == 0);
  CHECK(cmp<Pep440Version>("1.0a", "1.0a0") == 0);
  CHECK(cmp<Pep440Version>("1.0-Alpha-2", "1.0a2") == 0);
  CHECK(cmp<Pep440Version>("1.0rev3", "1.0.post3") == 0);
  CHECK(cmp<Pep440Version>("1.11", "1.2") > 0);
  CHECK(cmp<Pep440Version>("1!0.1", "2.0") > 0);
  CHECK(cmp<Pep440Version>("0.dev0", "0") < 0);
  CHECK(cmp<Pep440Version>("3.2a1", "3.2") < 0);
  CHECK(cmp<Pep440Version>("0.26.0.post1", "0.26.1") < 0);
  CHECK(cmp<Pep440Version>("1.0+abc", "1.0+1") < 0);
  CHECK(cmp<Pep440Version>("1.0+1.2", "1.0+1.10") < 0);
  CHECK(cmp<Pep440Version>("1.0+deb12u1", "1.0+deb12u10") < 0);
  CHECK(cmp<Pep440Version>("1.0+ubuntu-1", "1.0+ubuntu.1") == 0);
  CHECK(cmp<Pep440Version>("1.0+a", "1.0+a.0") < 0);
}

TEST_CASE("strings that are not PEP 440 versions")
{
  for (const char* bad : {"0.2.0-n653", "2019-09-12", "1.0.x", "latest", "", "1.0+", "1.0+a..b", "1.0-", "1!",
                          "v", "1.0 1", "-class.-jw.util.version.Version-", "1.0.post1.post2"}) {
    CHECK_MESSAGE(!Pep440Version::parse(bad), "accepted \"" << bad << "\"");
  }
  // The trap of spec §3.2: a Debian version parses, so never feed one in.
  auto deb = Pep440Version::parse("0.26.1-1+deb12u2");
  REQUIRE(deb);
  CHECK(deb->has_post);
  CHECK(deb->local == std::vector<std::string>{"deb12u2"});
}

TEST_CASE("PEP 503 name normalisation")
{
  CHECK(pep503_name("Jinja2") == "jinja2");
  CHECK(pep503_name("typing_extensions") == "typing-extensions");
  CHECK(pep503_name("zope.interface") == "zope-interface");
  CHECK(pep503_name("jw.util") == "jw-util");
  CHECK(pep503_name("Django_package") == "django-package");
  CHECK(pep503_name("a-_.-b") == "a-b");
}
