#include "scanner/severity.hpp"

#include "base/strings.hpp"
#include "scanner/cvss.hpp"

namespace kiln::scanner {

std::string_view severity_name(Severity severity)
{
  switch (severity) {
  case Severity::unknown:
    return "UNKNOWN";
  case Severity::none:
    return "NONE";
  case Severity::low:
    return "LOW";
  case Severity::medium:
    return "MEDIUM";
  case Severity::high:
    return "HIGH";
  case Severity::critical:
    return "CRITICAL";
  }
  return "UNKNOWN";
}

std::optional<Severity> parse_severity(std::string_view text)
{
  std::string lower = to_lower(text);
  for (auto s : {Severity::unknown, Severity::none, Severity::low, Severity::medium, Severity::high,
                 Severity::critical}) {
    if (to_lower(severity_name(s)) == lower) {
      return s;
    }
  }
  if (lower == "moderate") {
    return Severity::medium;
  }
  return std::nullopt;
}

Severity band(double score)
{
  if (score >= 9.0) {
    return Severity::critical;
  }
  if (score >= 7.0) {
    return Severity::high;
  }
  if (score >= 4.0) {
    return Severity::medium;
  }
  if (score >= 0.1) {
    return Severity::low;
  }
  return Severity::none;
}

namespace {

std::optional<Rating> from_vectors(const std::vector<SeverityScore>& scores)
{
  for (const auto& s : scores) {
    if (s.type != "CVSS_V3") {
      continue;
    }
    if (auto score = cvss3_base_score(s.score)) {
      return Rating{band(*score), score, s.score, "CVSS_V3"};
    }
  }
  return std::nullopt;
}

Severity from_urgency(std::string urgency)
{
  while (!urgency.empty() && urgency.back() == '*') {
    urgency.pop_back();
  }
  if (urgency.starts_with("high")) {
    return Severity::high;
  }
  if (urgency.starts_with("medium")) {
    return Severity::medium;
  }
  if (urgency.starts_with("low") || urgency == "unimportant") {
    return Severity::low;
  }
  return Severity::unknown;
}

} // namespace

Rating rate(const Advisory& advisory, const Affected& affected)
{
  if (auto r = from_vectors(affected.severity)) {
    return *r;
  }
  if (auto r = from_vectors(advisory.severity)) {
    return *r;
  }
  Rating rating;
  // A v4 or v2 vector is shown but not scored (v4 needs FIRST's tables).
  for (const auto* list : {&affected.severity, &advisory.severity}) {
    for (const auto& s : *list) {
      if (rating.vector.empty() && (s.type == "CVSS_V4" || s.type == "CVSS_V2")) {
        rating.vector = s.score;
      }
    }
  }
  if (!advisory.database_severity.empty()) {
    if (auto s = parse_severity(advisory.database_severity)) {
      rating.severity = *s;
      rating.source = "database_specific";
      return rating;
    }
  }
  if (!affected.urgency.empty()) {
    rating.severity = from_urgency(affected.urgency);
    rating.source = rating.severity == Severity::unknown ? "" : "urgency";
  }
  return rating;
}

} // namespace kiln::scanner
