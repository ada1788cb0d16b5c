#pragma once

// Checks a layout: every blob reachable from index.json is present, has the
// size its descriptor says, hashes to its name, and manifests, indexes and
// configs parse and agree with each other. Reports every problem, not just
// the first.

#include <set>
#include <string>
#include <vector>

#include "oci/layout.hpp"

namespace kiln::oci {

struct FsckReport
{
  std::vector<std::string> problems;
  size_t blobs_checked = 0;
  std::set<std::string> reachable; // digests, "sha256:…"
};

FsckReport fsck(const Layout& layout);

struct GcReport
{
  size_t removed = 0;
  uint64_t bytes = 0;
  size_t kept_recent = 0;
};

// Removes blobs that nothing reachable needs, and temporary files left by
// writers that died. A manifest whose subject is
// reachable (a referrer such as a sigstore bundle) is reachable too. Blobs
// written in the last hour are kept: a concurrent writer may not have
// tagged them yet. Refuses to run on a layout with problems.
Result<GcReport> collect_garbage(const Layout& layout, const FsckReport& report);

} // namespace kiln::oci
