#include "builder/modeljson.hpp"
#include "builder/parser.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("the JSON leaves out empty members and is byte-for-byte deterministic")
{
  std::string_view text = "FROM a AS b\nCOPY --link x /y\nARG Z\n";
  auto first = to_json(parse(text, {})).dump();
  auto second = to_json(parse(text, {})).dump();
  CHECK(first == second);
  CHECK(first ==
        R"({"escape":"\\","args":[],"target":0,"stages":[{"index":0,"name":"b","from":{"image":"a"},)"
        R"("needed":true,"at":"1:1","steps":[{"at":"2:1","kind":"COPY","form":"shell","args":["x","/y"],)"
        R"("flags":{"link":true}},{"at":"3:1","kind":"ARG","pairs":[["Z",null]]}]}]})");
}

TEST_CASE("heredoc fd, mounts' from_stage and diagnostics appear when present")
{
  auto j = to_json(
      parse("FROM a AS s\nFROM a\nRUN --mount=from=s,target=/m 3<<EOF cat\nx\nEOF\nMAINTAINER me\n", {}));
  auto step = j["stages"][1]["steps"][0];
  CHECK(step["heredocs"][0]["fd"] == 3);
  CHECK(step["mounts"][0]["from_stage"] == 0);
  CHECK(j["diagnostics"][0] == "6:1: warning: MAINTAINER is deprecated: recorded as LABEL maintainer=...");
}
