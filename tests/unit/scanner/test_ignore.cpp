#include "scanner/ignore.hpp"

#include <doctest/doctest.h>

using namespace kiln::scanner;

TEST_CASE("ignore entries: id, reason, optional expiry and package")
{
  auto list = parse_ignore(R"(
[[ignore]]
id = "PYSEC-2023-83"
reason = "Debian backport"
expires = 2025-06-30

[[ignore]]
id = "CVE-2099-0001"
reason = "not reachable"
expires = "2024-01-31"
package = "libssl3"

[[ignore]]
id = "X-1"
reason = "forever"
)",
                           "kiln-ignore.toml");
  REQUIRE_MESSAGE(list, list.error());
  REQUIRE(list->rules.size() == 3);
  CHECK(list->rules[0].expires == "2025-06-30");
  CHECK(list->rules[1].expires == "2024-01-31");
  CHECK(list->rules[1].package == "libssl3");
  CHECK(list->rules[2].expires.empty());
  CHECK(expired(list->rules[0], "2025-06-30"));
  CHECK_FALSE(expired(list->rules[0], "2025-06-29"));
  CHECK_FALSE(expired(list->rules[2], "9999-12-31"));
  CHECK(parse_ignore("", "empty.toml")->rules.empty());
}

TEST_CASE("bad ignore files name the file, line and problem")
{
  auto bad = [](const char* text) {
    auto r = parse_ignore(text, "f.toml");
    REQUIRE_FALSE(r);
    return r.error();
  };
  CHECK(bad("[[ignore]]\nreason = \"x\"\n") == "read ignore file f.toml:1: an entry has no id");
  CHECK(bad("[[ignore]]\nid = \"A\"\n") == "read ignore file f.toml:1: entry A has no reason");
  CHECK(bad("[[ignore]]\nid = \"A\"\nreason = \"r\"\nexpires = 5\n") ==
        "read ignore file f.toml:1: entry A: expires must be a date");
  CHECK(bad("[[ignore]]\nid = \"A\"\nreason = \"r\"\nexpires = \"soon\"\n") ==
        "read ignore file f.toml:1: entry A: expires \"soon\" is not YYYY-MM-DD");
  CHECK(bad("ignore = 3\n") == "read ignore file f.toml: \"ignore\" must be an array of tables ([[ignore]])");
  CHECK(bad("[[ignore]\n").starts_with("read ignore file f.toml:1:"));
}
