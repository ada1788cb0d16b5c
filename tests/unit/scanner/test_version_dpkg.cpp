#include "scanner/version_dpkg.hpp"
#include "tests/unit/scanner/compare.hpp"

#include <doctest/doctest.h>
#include <string>
#include <vector>

using namespace kiln::scanner;

namespace {

void ascending(const std::vector<std::string>& list)
{
  for (size_t i = 0; i + 1 < list.size(); ++i) {
    CHECK_MESSAGE(cmp<DpkgVersion>(list[i], list[i + 1]) == -1, list[i] << " < " << list[i + 1]);
    CHECK_MESSAGE(cmp<DpkgVersion>(list[i + 1], list[i]) == 1, list[i + 1] << " > " << list[i]);
  }
}

} // namespace

TEST_CASE("dpkg ordering facts of deb-version(7)")
{
  ascending({"1.0~rc1", "1.0", "1.0+b1"});
  ascending({"1.0~~", "1.0~", "1.0"});
  ascending({"3.0.11-1~deb12u2", "3.0.11-1", "3.0.11-1+deb12u1"});
  ascending({"2.36-9+deb12u4", "2.36-9+deb12u10"});
  ascending({"2.0", "1:1.0"});
  ascending({"1.0", "1.0.0"});
  ascending({"1.0-1", "1.0.0-1"});
  ascending({"1.0A", "1.0a", "1.0+"});
  ascending({"1.2.3", "1.2.3a", "1.2.3."});
  ascending({"1.0-1~bpo12+1", "1.0-1"});
  ascending({"2.4.7-1+b1", "2.4.7-1+deb12u1"});
  ascending({"1.0-1ubuntu1", "1.0-1+deb12u1"});
  ascending({"1.0", "1.0+dfsg", "1.0.1"});
  ascending({"3.0.11-1~deb12u2", "3.0.15-1~deb12u1"});
  CHECK(cmp<DpkgVersion>("1.0", "1.0-0") == 0);
  CHECK(cmp<DpkgVersion>("0:1.2", "1.2") == 0);
  CHECK(cmp<DpkgVersion>("1.09", "1.9") == 0);
  CHECK(cmp<DpkgVersion>("1:1:1", "1:1:1") == 0);
}

TEST_CASE("dpkg parses epoch, upstream and revision")
{
  auto v = DpkgVersion::parse("1:2.4.47-2+b1");
  REQUIRE(v);
  CHECK(v->epoch == 1);
  CHECK(v->upstream == "2.4.47");
  CHECK(v->revision == "2+b1");
  auto hyphens = DpkgVersion::parse("1.2-3-4");
  REQUIRE(hyphens);
  CHECK(hyphens->upstream == "1.2-3");
  CHECK(hyphens->revision == "4");
}

TEST_CASE("strings dpkg rejects or warns about are invalid")
{
  for (const char* bad : {"", " ", ":1", "1:", "1-", "x:1", "99999999999:1", "1 0", "a1.0", "1.0_1",
                          "1.0-a_b", "1.0-1:2", "latest", "1.0-"}) {
    CHECK_MESSAGE(!DpkgVersion::parse(bad), "accepted \"" << bad << "\"");
  }
  CHECK(DpkgVersion::parse(" 1.0 "));
}
