#include "builder/words.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

namespace {

std::vector<std::string> texts(const std::vector<Piece>& pieces)
{
  std::vector<std::string> out;
  for (const auto& p : pieces) {
    out.push_back(p.text);
  }
  return out;
}

} // namespace

TEST_CASE("split_fields splits at whitespace and records offsets")
{
  auto pieces = split_fields("  a\tbb  c ");
  CHECK(texts(pieces) == std::vector<std::string>{"a", "bb", "c"});
  CHECK(pieces[1].offset == 4);
}

TEST_CASE("split_quoted_words keeps quotes and escapes for expansion")
{
  CHECK(texts(split_quoted_words(R"(A="x y" B=a\ b C='q "r"' D="")", '\\')) ==
        std::vector<std::string>{"A=\"x y\"", "B=a\\ b", "C='q \"r\"'", "D=\"\""});
  CHECK(texts(split_quoted_words("\"\"", '\\')) == std::vector<std::string>{"\"\""});
  CHECK(texts(split_quoted_words("A=1 \\", '\\')) == std::vector<std::string>{"A=1"});
  CHECK(texts(split_quoted_words("A=`\"b", '`')) == std::vector<std::string>{"A=`\"b"});
}

TEST_CASE("extract_flags takes the leading --flags, quotes removed, up to the arguments")
{
  auto flags = extract_flags(" --from=build --chown=\"a b\" src dst");
  CHECK(texts(flags.flags) == std::vector<std::string>{"from=build", "chown=a b"});
  CHECK(flags.rest_offset == 28);
  auto none = extract_flags("echo --not-a-flag");
  CHECK(none.flags.empty());
  CHECK(none.rest_offset == 0);
  auto dashdash = extract_flags("--link -- --literal");
  CHECK(texts(dashdash.flags) == std::vector<std::string>{"link"});
  CHECK(std::string_view("--link -- --literal").substr(dashdash.rest_offset) == " --literal");
}

TEST_CASE("parse_json_array: exec form, not JSON, or JSON that is not all strings")
{
  CHECK(parse_json_array(R"( ["a", "b c"] )").value().value() == std::vector<std::string>{"a", "b c"});
  CHECK(!parse_json_array("echo hi").value().has_value());
  CHECK(!parse_json_array("['a']").value().has_value());
  CHECK(!parse_json_array("[\"a\"] trailing").value().has_value());
  CHECK(!parse_json_array("[\"a\", 1]").has_value());
  CHECK(parse_json_array("[]").value().value().empty());
}
