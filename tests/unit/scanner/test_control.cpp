#include "scanner/control.hpp"

#include <doctest/doctest.h>

using namespace kiln::scanner;

TEST_CASE("deb822 stanzas, continuation lines and case-insensitive fields")
{
  auto stanzas =
      parse_control("Package: a\nDescription: x\n more\n\t tab\nVERSION: 1\n\n\n \nPackage: b\r\n");
  REQUIRE(stanzas.size() == 2);
  CHECK(stanzas[0].line == 1);
  CHECK(stanzas[0].fields.at("version") == "1");
  CHECK(stanzas[0].fields.at("description") == "x\nmore\n tab");
  CHECK(stanzas[0].error.empty());
  CHECK(stanzas[1].line == 9);
  CHECK(stanzas[1].fields.at("package") == "b");
}

TEST_CASE("broken stanzas carry the reason")
{
  auto stanzas = parse_control(
      " leading continuation\nPackage: a\n\nPackage: b\nno colon here\n\nPackage: c\nPackage: d\n");
  REQUIRE(stanzas.size() == 3);
  CHECK(stanzas[0].error == "line 1: continuation line before any field");
  CHECK(stanzas[1].error == "line 5: not a \"Field: value\" line");
  CHECK(stanzas[2].error == "line 8: field Package repeated");
}
