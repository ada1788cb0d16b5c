#pragma once

// kiln's severity rule (specs/scanning.md §4): a computed CVSS v3 base score
// first, then GHSA's database_specific.severity, then Debian's urgency.

#include "scanner/osv.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace kiln::scanner {

// Ordered: a --fail-on threshold trips on findings at or above it.
enum class Severity { unknown, none, low, medium, high, critical };

std::string_view severity_name(Severity severity);             // "HIGH"
std::optional<Severity> parse_severity(std::string_view text); // case-insensitive
Severity band(double score);

struct Rating
{
  Severity severity = Severity::unknown;
  std::optional<double> score; // when computed from a CVSS v3 vector
  std::string vector;          // the vector scored, or a CVSS_V4/V2 one kept unscored
  std::string source;          // "CVSS_V3", "database_specific", "urgency" or ""
};

Rating rate(const Advisory& advisory, const Affected& affected);

} // namespace kiln::scanner
