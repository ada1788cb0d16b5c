#pragma once

// Applies a layer blob (gzip, zstd or uncompressed tar) onto a directory
// with OCI whiteout semantics, checking the diff_id (and the blob digest
// when given) while reading.
//
// Nothing is ever written outside the target, whatever the archive holds:
// paths are cleaned lexically (".." stops at the root, a leading "/" is
// dropped), every parent directory is opened with openat2(RESOLVE_IN_ROOT),
// so a symlink planted by an earlier entry or layer resolves inside the
// target, the final component is never followed (O_NOFOLLOW, *at calls
// without AT_SYMLINK_FOLLOW), an existing symlink is removed rather than
// written through, and hardlink targets are resolved in the root as well.
//
// Without privilege, owners that cannot be set, device nodes and xattrs
// that cannot be written are returned as OwnershipRecords (and a warning is
// printed for each skipped device) instead of being dropped silently.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/fileio.hpp"
#include "base/result.hpp"
#include "oci/layer_reader.hpp"
#include "oci/ownership.hpp"

namespace kiln::oci {

struct ApplyOptions
{
  ExpectedDigests expected;
  // Receives one line per skipped device node or other lossy step.
  std::function<void(const std::string&)> warn;
};

struct ApplyResult
{
  Digest diff_id;
  Digest blob_digest;
  Compression compression = Compression::none;
  uint64_t entries = 0;
  std::vector<OwnershipRecord> unapplied;
};

// Applies the layer read from `blob` (to its end) onto the directory
// root_fd. `name` identifies the layer in messages. On error the target may
// hold part of the layer: callers extract into a temporary directory.
Result<ApplyResult> apply_layer(int root_fd, Fd blob, const std::string& name, const ApplyOptions& options);

Result<ApplyResult> apply_layer(const std::filesystem::path& root, const std::filesystem::path& blob,
                                const ApplyOptions& options);

// Cleans a tar member name to a path relative to the root: "" and "."
// components dropped, ".." removing the previous component or nothing at
// the root, so the result never climbs out. Empty means the root itself.
std::string clean_member_path(std::string_view name);

} // namespace kiln::oci
