#pragma once

// OSV matching as specs/scanning.md §2.2 defines it: the union of the
// `versions` list and every ECOSYSTEM/SEMVER range, with events sorted per
// range, "introduced 0" as a sentinel, fixed exclusive, last_affected
// inclusive, and fixed/last_affected/limit before introduced on ties.

#include "scanner/osv.hpp"
#include "scanner/version.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

// The comparator for an ecosystem's ECOSYSTEM ranges and `versions` lists.
VersionScheme scheme_for(Ecosystem ecosystem);

// What one installed package is matched as.
struct Query
{
  std::string ecosystem; // exactly as in OSV, e.g. "Debian:12"
  Ecosystem kind = Ecosystem::unsupported;
  std::string name;    // normalised (normalise_name)
  std::string version; // the source version for Debian
};

struct Hit
{
  bool via_versions = false;
  bool via_range = false;
  std::optional<std::string> fixed_in; // lowest `fixed` above the version, if any
  const Affected* affected = nullptr;  // the first entry that hit
};

// Does this record affect the package? An event that does not parse skips
// its range with a warning. An installed version that does not parse skips
// every range silently (the caller reports it once per package): only exact
// `versions` entries can then match. Neither ever turns into a hit.
std::optional<Hit> match(const Advisory& advisory, const Query& query, std::vector<std::string>& warnings);

// True when the record's `affected` entry is for the query's package.
bool applies(const Affected& affected, const Query& query);

} // namespace kiln::scanner
