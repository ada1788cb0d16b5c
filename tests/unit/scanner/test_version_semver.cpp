#include "scanner/version_semver.hpp"
#include "tests/unit/scanner/compare.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace kiln::scanner;

TEST_CASE("SemVer precedence facts")
{
  std::vector<std::string> sorted{"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                                  "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0"};
  for (size_t i = 0; i + 1 < sorted.size(); ++i) {
    CHECK_MESSAGE(cmp<SemVersion>(sorted[i], sorted[i + 1]) < 0, sorted[i] << " < " << sorted[i + 1]);
    CHECK_MESSAGE(cmp<SemVersion>(sorted[i + 1], sorted[i]) > 0, sorted[i + 1] << " > " << sorted[i]);
  }
  CHECK(cmp<SemVersion>("1.2.3-5", "1.2.3-a") < 0);
  CHECK(cmp<SemVersion>("1.2.3-a", "1.2.3-a.b") < 0);
  CHECK(cmp<SemVersion>("1.2.3-r100", "1.2.3-r2") < 0);
  CHECK(cmp<SemVersion>("1.2.3-R2", "1.2.3-r100") < 0);
  CHECK(cmp<SemVersion>("0.9.9", "0.10.0") < 0);
  CHECK(cmp<SemVersion>("2.0.0", "10.0.0") < 0);
  CHECK(cmp<SemVersion>("1.2.3-0", "1.2.3") < 0);
  CHECK(cmp<SemVersion>("v1.2.3", "1.2.3") == 0);
  CHECK(cmp<SemVersion>("1.0.0+a", "1.0.0+b") == 0);
  CHECK(cmp<SemVersion>(" 1.0.0 ", "1.0.0") == 0);
}

TEST_CASE("strict SemVer rejects loose forms")
{
  for (const char* bad : {"01.2.3", "1.02.3", "1.2.3-01", "1.2", "1.2.3.4", "=1.2.3", "1.2.3-", "1.2.3+",
                          "1.2.3-a..b", "latest", "", "1.2.x", "1.2.3-a_b"}) {
    CHECK_MESSAGE(!SemVersion::parse(bad), "accepted \"" << bad << "\"");
  }
  CHECK(SemVersion::parse("1.2.3-0a"));
  CHECK(SemVersion::parse("0.0.0-x-y-z.--"));
}
