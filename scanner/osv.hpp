#pragma once

// OSV records (https://ossf.github.io/osv-schema/), reduced to the fields
// the scanner uses. The same parser reads records from osv.dev exports and
// the slim copies kept in kiln's advisory DB (to_slim_json writes those).

#include "base/result.hpp"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

// The ecosystems kiln can match: each has a version comparator and a name rule.
enum class Ecosystem { debian, pypi, npm, unsupported };

// "Debian" and "Debian:<release>" are Debian; "PyPI" and "npm" exactly.
Ecosystem classify_ecosystem(std::string_view ecosystem);

// The name as the index stores it: PEP 503 for PyPI, unchanged otherwise.
std::string normalise_name(Ecosystem ecosystem, std::string_view name);

enum class EventKind { introduced, fixed, last_affected, limit };

struct Event
{
  EventKind kind;
  std::string value;
};

enum class RangeType { ecosystem, semver, git, other };

struct Range
{
  RangeType type = RangeType::other;
  std::vector<Event> events;
};

struct SeverityScore
{
  std::string type; // CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu...
  std::string score;
};

struct Affected
{
  std::string ecosystem; // as written, e.g. "Debian:12"
  std::string name;      // as written
  std::vector<std::string> versions;
  std::vector<Range> ranges;
  std::vector<SeverityScore> severity;
  std::string urgency; // Debian ecosystem_specific.urgency
};

struct Reference
{
  std::string type;
  std::string url;
};

struct Advisory
{
  std::string id;
  std::string modified;
  std::string published;
  bool withdrawn = false;
  std::vector<std::string> aliases;
  std::string summary;
  std::string details;
  std::vector<SeverityScore> severity;
  std::string database_severity; // GHSA's database_specific.severity
  std::vector<Affected> affected;
  std::vector<Reference> references;
};

// Parses one record. A failure names the field and, when known, the id.
Result<Advisory> parse_osv(const nlohmann::json& record);

// The record without what a scan never reads (GIT ranges, unsupported
// ecosystems); details are cut to k_details_limit bytes.
nlohmann::json to_slim_json(const Advisory& advisory);

inline constexpr size_t k_details_limit = 4096;

} // namespace kiln::scanner
