#include <doctest/doctest.h>

#include "signer/strict_json.hpp"

using namespace kiln::signer;

TEST_CASE("duplicate keys at any depth are refused")
{
  CHECK(parse_strict_json(R"({"a":{"b":1},"c":[{"b":1},{"b":2}]})"));
  auto top = parse_strict_json(R"({"a":1,"a":2})");
  REQUIRE_FALSE(top);
  CHECK(top.error() == "duplicate JSON key \"a\"");
  CHECK_FALSE(parse_strict_json(R"({"x":[{"k":1,"k":1}]})"));
  CHECK_FALSE(parse_strict_json(R"({"a":1} trailing)"));
}

TEST_CASE("key sets and quoting")
{
  auto doc = *parse_strict_json(R"({"a":1,"b":2})");
  CHECK(check_keys(doc, "doc", {"a"}, {"b"}));
  CHECK(check_keys(doc, "doc", {"a", "c"}).error() == "doc lacks \"c\"");
  CHECK(check_keys(doc, "doc", {"a"}).error() == "doc has unknown key \"b\"");
  CHECK(json_quote("a\"b\n") == R"("a\"b\n")");
}
