#pragma once

// The scanner's entry point and its result. The builder calls scan() with
// the directory fd of the image's final filesystem; cli/ renders the report.

#include "base/result.hpp"
#include "scanner/advisory_db.hpp"
#include "scanner/ignore.hpp"
#include "scanner/package.hpp"
#include "scanner/rootfs.hpp"
#include "scanner/severity.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kiln::scanner {

struct Finding
{
  size_t package = 0;               // index into Report::catalogue.packages
  std::string id;                   // the primary id
  std::vector<std::string> aliases; // CVE and other ids, and merged records' ids
  std::string summary;
  std::string details;
  Rating rating;
  std::optional<std::string> fixed_in; // none: affected, no fix
  bool via_versions = false;
  bool via_range = false;
  std::string urgency;   // Debian's, when given
  std::string ecosystem; // the OSV ecosystem matched
  std::vector<Reference> references;
};

struct Suppressed
{
  Finding finding;
  std::string reason; // the ignore entry's reason, or "unfixed"
};

enum class IgnoreUnfixed { yes, no };

struct ScanOptions
{
  IgnoreUnfixed ignore_unfixed = IgnoreUnfixed::no;
  IgnoreList ignores;
  std::string target;                  // image or directory name for SBOMs and SARIF
  std::string target_digest;           // manifest digest when scanning an image
  std::vector<std::string> invocation; // arguments, for the cosign predicate
  // Warn (never fail) when the DB's newest record is older than this; 0: never.
  int max_db_age_days = 30;
};

struct Report
{
  Catalogue catalogue;
  std::vector<Finding> findings; // sorted by package, then id
  std::vector<Suppressed> suppressed;
  std::vector<std::string> warnings; // catalogue, matching and ignore-file notices
  nlohmann::json db;                 // the DB's metadata (uri, version, built, sources)
  std::string started;               // RFC 3339
  std::string finished;
  ScanOptions options;
};

// Catalogues the filesystem under rootfs_dirfd and matches it against db.
// Fails only when the DB cannot be read; problems with individual packages
// or records become warnings.
Result<Report> scan(int rootfs_dirfd, const AdvisoryDb& db, const ScanOptions& options);
Result<Report> scan(const Rootfs& rootfs, const AdvisoryDb& db, const ScanOptions& options);

// True when a finding at or above threshold remains.
bool trips(const Report& report, Severity threshold);

// The current time as RFC 3339 with milliseconds ("2024-10-10T12:00:01.250Z").
std::string now_rfc3339_ms();

} // namespace kiln::scanner
