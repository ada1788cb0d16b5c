#pragma once

// Semantic Versioning 2.0.0, strict as node-semver's strict mode: a leading
// 'v' and surrounding spaces are allowed, leading zeros, missing or extra
// core numbers are not.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

struct SemVersion
{
  std::string major; // digit strings, no leading zeros
  std::string minor;
  std::string patch;
  std::vector<std::string> prerelease; // identifiers; build metadata is dropped

  static std::optional<SemVersion> parse(std::string_view text);
};

int compare(const SemVersion& a, const SemVersion& b);

} // namespace kiln::scanner
