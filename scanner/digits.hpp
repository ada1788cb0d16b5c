#pragma once

// Version numbers of any length are kept as digit strings; this orders them.

#include <string_view>

namespace kiln::scanner {

// Compares two decimal digit strings that carry no leading zeros.
inline int compare_digits(std::string_view a, std::string_view b)
{
  if (a.size() != b.size()) {
    return a.size() < b.size() ? -1 : 1;
  }
  int r = a.compare(b);
  return r < 0 ? -1 : (r > 0 ? 1 : 0);
}

} // namespace kiln::scanner
