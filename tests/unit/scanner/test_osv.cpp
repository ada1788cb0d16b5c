#include "scanner/osv.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace kiln::scanner;
using nlohmann::json;

TEST_CASE("an OSV record is parsed into the fields the scanner uses")
{
  auto record = json::parse(R"({
    "id": "DSA-0000-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
    "summary": "s", "details": "d",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    "database_specific": {"severity": "HIGH"},
    "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u1"}]},
                             {"type": "GIT", "repo": "x", "events": [{"introduced": "abc.patch"}]}],
                  "ecosystem_specific": {"urgency": "low*"}},
                 {"package": {"ecosystem": "Go", "name": "x"}, "versions": ["1"]}],
    "references": [{"type": "WEB", "url": "https://example.invalid/a"}]})");
  auto adv = parse_osv(record);
  REQUIRE(adv);
  CHECK(adv->id == "DSA-0000-1");
  CHECK_FALSE(adv->withdrawn);
  CHECK(adv->aliases == std::vector<std::string>{"CVE-2024-0001"});
  CHECK(adv->database_severity == "HIGH");
  REQUIRE(adv->affected.size() == 2);
  CHECK(adv->affected[0].urgency == "low*");
  REQUIRE(adv->affected[0].ranges.size() == 2);
  CHECK(adv->affected[0].ranges[0].events[1].kind == EventKind::fixed);
  CHECK(adv->affected[0].ranges[1].type == RangeType::git);

  // The slim copy drops GIT ranges and unsupported ecosystems and reads back the same.
  auto slim = to_slim_json(*adv);
  CHECK(slim["affected"].size() == 1);
  CHECK(slim["affected"][0]["ranges"].size() == 1);
  auto again = parse_osv(slim);
  REQUIRE(again);
  CHECK(again->affected[0].ranges[0].events[1].value == "3.0.11-1~deb12u1");
  CHECK(again->affected[0].urgency == "low*");
  CHECK(again->references.size() == 1);
}

TEST_CASE("malformed records are refused with their id and the field")
{
  auto bad = [](const char* text) {
    auto r = parse_osv(json::parse(text));
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(bad(R"([1])") == "the record is not a JSON object");
  CHECK(bad(R"({"summary": "x"})") == "the record has no id");
  CHECK(bad(R"({"id": 5})") == "record.id is not a string");
  CHECK(bad(R"({"id": "X-1", "affected": {}})") == "X-1: record.affected is not an array");
  CHECK(
      bad(R"({"id": "X-2", "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0", "fixed": "1"}]}]}]})") ==
      "X-2: affected[0].ranges[0].events holds an event without exactly one key");
  CHECK(
      bad(R"({"id": "X-3", "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": 1}]}]}]})") ==
      "X-3: affected[0].ranges[0].events: \"fixed\" is not a string");
  CHECK(bad(R"({"id": "X-4", "affected": [{"versions": ["1", 2]}]})") ==
        "X-4: affected[0].versions holds a non-string");
}

TEST_CASE("ecosystems and names")
{
  CHECK(classify_ecosystem("Debian:12") == Ecosystem::debian);
  CHECK(classify_ecosystem("Debian") == Ecosystem::debian);
  CHECK(classify_ecosystem("PyPI") == Ecosystem::pypi);
  CHECK(classify_ecosystem("npm") == Ecosystem::npm);
  CHECK(classify_ecosystem("pypi") == Ecosystem::unsupported);
  CHECK(classify_ecosystem("Alpine:v3.19") == Ecosystem::unsupported);
  CHECK(normalise_name(Ecosystem::pypi, "jw.util") == "jw-util");
  CHECK(normalise_name(Ecosystem::npm, "@Babel/Core") == "@Babel/Core");
}
