#include "builder/outputtail.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("OutputTail keeps the last lines across chunk boundaries")
{
  OutputTail tail(3);
  tail.feed("one\ntw");
  tail.feed("o\nthree\r\nfour\nfi");
  auto lines = tail.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "three");
  CHECK(lines[1] == "four");
  CHECK(lines[2] == "fi");
}

TEST_CASE("OutputTail caps a line without newline")
{
  OutputTail tail(2);
  tail.feed(std::string(100000, 'x'));
  auto lines = tail.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].size() == 4096);
}
