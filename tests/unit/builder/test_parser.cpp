#include "builder/diagnostic.hpp"
#include "builder/parser.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("base_env supplies the base image's ENV for expansion, and child stages inherit ENV")
{
  ParseOptions options;
  options.base_env = [](const std::string& image) -> std::optional<EnvList> {
    if (image == "debian") {
      return EnvList{{"PATH", "/usr/bin:/bin"}};
    }
    return std::nullopt;
  };
  Build build = parse("FROM debian AS a\nENV PATH=/opt/bin:$PATH X=1\nFROM a\nWORKDIR /$X\n", options);
  CHECK(build.stages[0].steps[0].pairs[0].value == "/opt/bin:/usr/bin:/bin");
  CHECK(build.stages[1].steps[0].args[0] == "/1");
}

TEST_CASE("source ranges cover continuation and heredoc lines")
{
  Build build = parse("FROM a\n\nRUN <<EOF \\\n  && true\nbody\nEOF\n", {});
  const auto& src = build.stages[0].steps[0].source;
  CHECK(src.file == "Containerfile");
  CHECK(src.line == 3);
  CHECK(src.column == 1);
  CHECK(src.end_line == 6);
  CHECK(build.stages[0].steps[0].heredocs[0].content == "body\n");
}

TEST_CASE("errors carry FILE:LINE:COL, the reason and the offending text")
{
  ParseOptions options;
  options.file = "ctx/Containerfile";
  try {
    parse("FROM a\nCOPY \\\n  --chmodd=755 a /b\n", options);
    FAIL("no error");
  } catch (const ParseError& e) {
    CHECK(e.file() == "ctx/Containerfile");
    CHECK(e.pos().line == 3);
    CHECK(e.pos().column == 3);
    CHECK(std::string(e.what()) == "ctx/Containerfile:3:3: unknown flag --chmodd for COPY: --chmodd=755");
  }
}

TEST_CASE("warnings are kept once each")
{
  Build build = parse("FROM a\nMAINTAINER x\nMAINTAINER y\n", {});
  CHECK(build.diagnostics.size() == 2);
  CHECK(build.diagnostics[0].format() ==
        "Containerfile:2:1: warning: MAINTAINER is deprecated: recorded as LABEL maintainer=...");
}

TEST_CASE("--build-arg without a declaring ARG is reported, proxies are not")
{
  ParseOptions options;
  options.build_args = {{"X", "1"}, {"no_proxy", "localhost"}, {"TARGETARCH", "arm"}};
  Build build = parse("FROM a\n", options);
  REQUIRE(build.diagnostics.size() == 1);
  CHECK(build.diagnostics[0].format() == "Containerfile: warning: build-arg X was not consumed by any ARG");
  CHECK(build.proxy_args == std::vector<KeyValue>{{"no_proxy", "localhost"}});
}

TEST_CASE("hostile growth is bounded: doubling ENV stops with an error")
{
  std::string text = "FROM a\nENV A=xxxxxxxxxxxxxxxx\n";
  for (int i = 0; i < 40; ++i) {
    text += "ENV A=$A$A\n";
  }
  CHECK_THROWS_AS(parse(text, {}), ParseError);
}

TEST_CASE("parse_file names the file when it cannot be read")
{
  CHECK_THROWS_WITH(parse_file("/nonexistent/Containerfile", {}),
                    doctest::Contains("parse /nonexistent/Containerfile"));
}
