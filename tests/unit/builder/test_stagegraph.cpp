#include "builder/parser.hpp"
#include "builder/stagegraph.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

namespace {

Build parse_with_target(std::string_view text, std::optional<std::string> target)
{
  ParseOptions options;
  options.target = std::move(target);
  return parse(text, options);
}

} // namespace

TEST_CASE("the target needs its base chain, COPY --from and RUN --mount from= stages")
{
  std::string_view text = "FROM a AS one\n"
                          "FROM b AS two\n"
                          "FROM one AS three\n"
                          "RUN --mount=type=bind,from=two,target=/t true\n"
                          "FROM c AS unused\n"
                          "FROM d AS final\n"
                          "COPY --from=three /x /y\n";
  Build build = parse_with_target(text, std::nullopt);
  CHECK(build.target == 4);
  std::vector<bool> needed;
  for (const auto& s : build.stages) {
    needed.push_back(s.needed);
  }
  CHECK(needed == std::vector<bool>{true, true, true, false, true});
  CHECK(build.stages[2].steps[0].mounts[0].from_stage == 1);
  CHECK(find_stage(build, "THREE") == 2);
  CHECK(find_stage(build, "nope") == -1);
}

TEST_CASE("--target picks a stage by name, case-insensitively, and refuses unknown names")
{
  Build build = parse_with_target("FROM a AS x\nFROM b AS y\n", "X");
  CHECK(build.target == 0);
  CHECK(!build.stages[1].needed);
  CHECK_THROWS_WITH(parse_with_target("FROM a AS x\n", "z"),
                    "parse Containerfile: target stage \"z\" could not be found");
}

TEST_CASE("a --mount from= naming no stage is an image and needs no stage")
{
  Build build = parse_with_target("FROM a\nRUN --mount=from=busybox,target=/b true\n", std::nullopt);
  CHECK(!build.stages[0].steps[0].mounts[0].from_stage);
}

TEST_CASE("--from pointing at a missing index is refused")
{
  CHECK_THROWS_WITH(parse_with_target("FROM a\nCOPY --from=7 /a /b\n", std::nullopt),
                    "Containerfile:2:1: --from=7: there is no stage 7 before this one: COPY --from=7 /a /b");
}
