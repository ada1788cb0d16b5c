#pragma once

// Python package versions (PEP 440), parsed and ordered as python3-packaging
// 23.0 does, including its lenient spellings (see the grammar in the .cpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

struct Pep440Version
{
  // Numbers are kept as digit strings without leading zeros so that any
  // length compares correctly.
  std::string epoch;
  std::vector<std::string> release; // trailing zeros removed
  int pre_kind = -1;                // -1 none, 0 a, 1 b, 2 rc
  std::string pre;
  bool has_post = false;
  std::string post;
  bool has_dev = false;
  std::string dev;
  bool has_local = false;
  std::vector<std::string> local; // lower-cased segments

  static std::optional<Pep440Version> parse(std::string_view text);
};

int compare(const Pep440Version& a, const Pep440Version& b);

// PEP 503: lower case, each run of '-', '_' and '.' becomes one '-'.
std::string pep503_name(std::string_view name);

} // namespace kiln::scanner
