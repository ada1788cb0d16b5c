#pragma once

// Parses both sides with V::parse (failing the test on a parse error) and
// returns the sign of their comparison.

#include <doctest/doctest.h>
#include <string>

template <typename V> int cmp(const std::string& a, const std::string& b)
{
  auto x = V::parse(a);
  auto y = V::parse(b);
  REQUIRE_MESSAGE(x, a);
  REQUIRE_MESSAGE(y, b);
  int r = compare(*x, *y);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}
