#include "builder/diagnostic.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("a ParseError is one line: FILE:LINE:COL: reason: excerpt")
{
  ParseError e("Containerfile", SourcePos{14, 5}, "unknown flag --chmodd for COPY", "--chmodd=755\nmore");
  CHECK(std::string(e.what()) == "Containerfile:14:5: unknown flag --chmodd for COPY: --chmodd=755 more");
  CHECK(e.reason() == "unknown flag --chmodd for COPY");
  CHECK(e.pos().line == 14);
  ParseError bare("F", SourcePos{1, 1}, "no instructions", "");
  CHECK(std::string(bare.what()) == "F:1:1: no instructions");
}

TEST_CASE("excerpts are cut at 80 bytes")
{
  std::string long_text(200, 'x');
  CHECK(excerpt(long_text) == std::string(80, 'x') + "...");
}

TEST_CASE("the same warning at the same place is kept once")
{
  Diagnostics d("Containerfile");
  d.add(Severity::warning, SourcePos{2, 1}, "w");
  d.add(Severity::warning, SourcePos{2, 1}, "w");
  d.add(Severity::warning, SourcePos{3, 1}, "w");
  d.add(Severity::note, SourcePos{1, 1}, "n");
  auto items = d.take();
  REQUIRE(items.size() == 3);
  CHECK(items[2].format() == "Containerfile:1:1: note: n");
}
