#include "builder/parser.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

namespace {

Step only_step(std::string_view instruction, ParseOptions options = {})
{
  std::string text = "FROM a\n" + std::string(instruction) + "\n";
  Build build = parse(text, options);
  REQUIRE(build.stages[0].steps.size() == 1);
  return build.stages[0].steps[0];
}

} // namespace

TEST_CASE("ARG on one line declares several, each seeing the ones before it")
{
  Step step = only_step("ARG A=1 B=$A-2 C");
  CHECK(step.pairs == std::vector<KeyValue>{{"A", "1"}, {"B", "1-2"}, {"C", std::nullopt}});
}

TEST_CASE("EXPOSE expands ranges, lower-cases protocols and drops duplicates")
{
  Step step = only_step("EXPOSE 7-8/UDP 7/udp 9");
  CHECK(step.args == std::vector<std::string>{"7/udp", "8/udp", "9/tcp"});
  CHECK_THROWS_AS(only_step("EXPOSE 9-7"), ParseError);
  CHECK_THROWS_AS(only_step("EXPOSE 70000"), ParseError);
}

TEST_CASE("COPY heredoc markers are kept as written; the body is expanded unless quoted")
{
  Build build = parse("FROM a\nENV X=1\nCOPY <<A <<'B' /d/\n$X\nA\n$X\nB\n", {});
  const Step& step = build.stages[0].steps[1];
  CHECK(step.args == std::vector<std::string>{"<<A", "<<'B'", "/d/"});
  CHECK(step.heredocs[0].content == "1\n");
  CHECK(step.heredocs[1].content == "$X\n");
}

TEST_CASE("WORKDIR and STOPSIGNAL refuse an empty value after expansion; USER does not")
{
  CHECK_THROWS_WITH(only_step("WORKDIR $NOPE"),
                    "Containerfile:2:1: WORKDIR is empty after expansion: WORKDIR $NOPE");
  CHECK(only_step("USER $NOPE").args == std::vector<std::string>{""});
}

TEST_CASE("instructions without flags refuse any flag")
{
  CHECK_THROWS_WITH(only_step("ENV --x=1 A=b"), "Containerfile:2:5: unknown flag --x for ENV: --x=1");
  CHECK_THROWS_WITH(only_step("CMD --help"), "Containerfile:2:5: unknown flag --help for CMD: --help");
}
