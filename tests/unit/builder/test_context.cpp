#include "builder/instruction.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("build_arg returns the last value given and marks it consumed")
{
  ParseOptions options;
  options.build_args = {{"A", "1"}, {"A", "2"}, {"B", "x"}, {"HTTP_PROXY", "p"}, {"TARGETOS", "linux"}};
  Diagnostics diagnostics("Containerfile");
  ParseContext context(options, diagnostics, '\\');
  CHECK(context.build_arg("A") == "2");
  CHECK(!context.build_arg("C"));
  CHECK(context.unconsumed_build_args() == std::vector<std::string>{"B"});
}

TEST_CASE("expand uses the context's escape character and reports errors at the position given")
{
  ParseOptions options;
  Diagnostics diagnostics("Containerfile");
  ParseContext context(options, diagnostics, '`');
  auto lookup = [](std::string_view name) -> std::optional<std::string> {
    return name == "X" ? std::optional<std::string>("1") : std::nullopt;
  };
  CHECK(context.expand("`$X=$X", SourcePos{1, 1}, lookup) == "$X=1");
  CHECK_THROWS_WITH_AS(context.expand("${X", SourcePos{4, 7}, lookup),
                       "Containerfile:4:7: syntax error: missing '}': ${X", ParseError);
}

TEST_CASE("split_head finds the keyword, the flags and the arguments")
{
  LogicalLine line;
  line.text = "  Copy --from=a --link src dst  ";
  for (size_t i = 0; i <= line.text.size(); ++i) {
    line.pos.push_back(SourcePos{1, static_cast<uint32_t>(i + 1)});
  }
  Head head = split_head(line);
  CHECK(head.keyword == "copy");
  CHECK(head.keyword_offset == 2);
  REQUIRE(head.flags.size() == 2);
  CHECK(head.flags[1].text == "link");
  CHECK(head.rest == "src dst");
  CHECK(is_known_instruction("healthcheck"));
  CHECK(!is_known_instruction("runn"));
}
