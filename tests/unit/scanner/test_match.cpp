#include "scanner/match.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace kiln::scanner;

namespace {

Advisory record(const char* text)
{
  auto adv = parse_osv(nlohmann::json::parse(text));
  REQUIRE_MESSAGE(adv, adv.error());
  return *adv;
}

Query pypi(const char* name, const char* version)
{
  return {"PyPI", Ecosystem::pypi, normalise_name(Ecosystem::pypi, name), version};
}

std::optional<Hit> check(const Advisory& adv, const Query& q)
{
  std::vector<std::string> warnings;
  return match(adv, q, warnings);
}

// PYSEC-2021-47's events, in the file's (unsorted) order.
const char* k_pydantic = R"({"id": "P-47", "affected": [{"package": {"ecosystem": "PyPI", "name": "pydantic"},
  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.8"}, {"fixed": "1.8.2"}, {"introduced": "1.7"},
    {"fixed": "1.7.4"}, {"introduced": "0"}, {"fixed": "1.6.2"}]}]}]})";

} // namespace

TEST_CASE("unsorted events are sorted before the sweep")
{
  auto adv = record(k_pydantic);
  for (const char* v : {"0.1", "1.6.1", "1.7", "1.7.3", "1.8", "1.8.1"}) {
    auto hit = check(adv, pypi("pydantic", v));
    REQUIRE_MESSAGE(hit, v);
    CHECK(hit->via_range);
    CHECK_FALSE(hit->via_versions);
  }
  for (const char* v : {"1.6.2", "1.6.9", "1.7.4", "1.7.9", "1.8.2", "1.10.4"}) {
    CHECK_MESSAGE(!check(adv, pypi("pydantic", v)), v);
  }
  CHECK(check(adv, pypi("pydantic", "1.7.3"))->fixed_in == "1.7.4");
  CHECK(check(adv, pypi("pydantic", "1.5"))->fixed_in == "1.6.2");
}

TEST_CASE("fixed is exclusive, last_affected inclusive, introduced-only is unfixed")
{
  auto adv = record(R"({"id": "X", "affected": [{"package": {"ecosystem": "PyPI", "name": "py"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "1.11.0"}]}]}]})");
  auto hit = check(adv, pypi("py", "1.11.0"));
  REQUIRE(hit);
  CHECK_FALSE(hit->fixed_in);
  CHECK_FALSE(check(adv, pypi("py", "1.11.1")));
  // "0" is a sentinel below everything, even 0.dev0 (which PEP 440 puts below 0).
  CHECK(check(adv, pypi("py", "0.dev0")));

  auto open = record(R"({"id": "Y", "affected": [{"package": {"ecosystem": "PyPI", "name": "a"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}]}]}]})");
  CHECK_FALSE(check(open, pypi("a", "1.9")));
  auto unfixed = check(open, pypi("a", "9.0"));
  REQUIRE(unfixed);
  CHECK_FALSE(unfixed->fixed_in);
}

TEST_CASE("equal-version fixed and introduced: the shared version is affected")
{
  auto adv = record(R"({"id": "T", "affected": [{"package": {"ecosystem": "PyPI", "name": "apache-iotdb"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0.13.0"}, {"fixed": "0.14.0rc1"},
      {"introduced": "0.12.2"}, {"fixed": "0.13.0"}]}]}]})");
  auto hit = check(adv, pypi("apache-iotdb", "0.13.0"));
  REQUIRE(hit);
  CHECK(hit->fixed_in == "0.14.0rc1");
  CHECK(check(adv, pypi("apache-iotdb", "0.12.9")));
  CHECK_FALSE(check(adv, pypi("apache-iotdb", "0.14.0")));
}

TEST_CASE("the versions list is part of the union and compares by ecosystem")
{
  auto adv = record(R"({"id": "D", "affected": [{"package": {"ecosystem": "PyPI", "name": "Django"},
    "versions": ["3.2a1", "4.0", "-weird-"],
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.19"}]}]}]})");
  auto pre = check(adv, pypi("django", "3.2a1"));
  REQUIRE(pre);
  CHECK(pre->via_versions);
  CHECK_FALSE(pre->via_range);
  CHECK(pre->fixed_in == "3.2.19");
  CHECK(check(adv, pypi("DJANGO", "4.0.0"))->via_versions); // 4.0 == 4.0.0
  // A version no scheme accepts matches only by exact string, with a warning.
  std::vector<std::string> warnings;
  auto weird = match(adv, pypi("django", "-weird-"), warnings);
  REQUIRE(weird);
  CHECK(weird->via_versions);
  CHECK_FALSE(weird->via_range);
  CHECK(warnings.empty());
  CHECK_FALSE(match(adv, pypi("django", "latest"), warnings));
}

TEST_CASE("a range with an unparsable event is skipped with a warning")
{
  auto adv =
      record(R"({"id": "PYSEC-2019-125", "affected": [{"package": {"ecosystem": "PyPI", "name": "steam"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2019-09-12"}]}]}]})");
  std::vector<std::string> warnings;
  CHECK_FALSE(match(adv, pypi("steam", "0.9"), warnings));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "PYSEC-2019-125: range skipped: event \"2019-09-12\" is not a valid PEP 440 version");
}

TEST_CASE("withdrawn records and other packages never match")
{
  auto adv = record(
      R"({"id": "W", "withdrawn": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "PyPI",
    "name": "arrayfire"}, "versions": ["3.5.0"]}]})");
  CHECK_FALSE(check(adv, pypi("arrayfire", "3.5.0")));
  auto other = record(
      R"({"id": "O", "affected": [{"package": {"ecosystem": "PyPI", "name": "jw.util"}, "versions": ["2.2"]}]})");
  CHECK(check(other, pypi("jw_util", "2.2")));
  CHECK_FALSE(check(other, pypi("jw-utils", "2.2")));
}

TEST_CASE("Debian: source names, release-exact ecosystems, +debNuM ordering")
{
  auto adv = record(R"({"id": "DEB", "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}]}]}]})");
  Query q{"Debian:12", Ecosystem::debian, "glibc", "2.36-9+deb12u10"};
  CHECK_FALSE(check(adv, q));
  q.version = "2.36-9+deb12u3";
  CHECK(check(adv, q)->fixed_in == "2.36-9+deb12u4");
  q.version = "2.36-9";
  CHECK(check(adv, q));
  Query eleven{"Debian:11", Ecosystem::debian, "glibc", "2.31-13"};
  CHECK_FALSE(check(adv, eleven));
  Query binary{"Debian:12", Ecosystem::debian, "libc6", "2.36-9"};
  CHECK_FALSE(check(adv, binary));
  auto any_release =
      record(R"({"id": "DEB2", "affected": [{"package": {"ecosystem": "Debian", "name": "glibc"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]})");
  CHECK(check(any_release, eleven));
}

TEST_CASE("npm: scoped names compared exactly, ranges compared as SemVer, limits honoured")
{
  auto adv = record(R"({"id": "GHSA-x", "affected": [{"package": {"ecosystem": "npm", "name": "@babel/core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "7.0.0-beta.1"}, {"fixed": "7.24.0"}, {"limit": "7.30.0"}]}]}]})");
  CHECK(check(adv, {"npm", Ecosystem::npm, "@babel/core", "7.10.0"}));
  CHECK(check(adv, {"npm", Ecosystem::npm, "@babel/core", "7.0.0-rc.1"}));
  CHECK_FALSE(check(adv, {"npm", Ecosystem::npm, "@babel/core", "7.0.0-alpha"}));
  CHECK_FALSE(check(adv, {"npm", Ecosystem::npm, "@Babel/core", "7.10.0"}));
  CHECK_FALSE(check(adv, {"npm", Ecosystem::npm, "@babel/core", "7.24.0"}));

  auto semver = record(R"({"id": "S", "affected": [{"package": {"ecosystem": "PyPI", "name": "x"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}, {"limit": "1.1.0"}]}]}]})");
  CHECK(check(semver, pypi("x", "1.0.5")));
  CHECK_FALSE(check(semver, pypi("x", "1.1.5"))); // at or above every limit
}
