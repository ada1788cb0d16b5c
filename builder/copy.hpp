#pragma once

// COPY and ADD: which files of a source tree (the build context, or another
// stage's or image's root filesystem) land where in the new layer, following
// the Dockerfile reference:
//   - a source directory contributes its contents, not itself;
//   - a file lands at DEST when DEST names a file, at DEST/NAME when DEST ends
//     in "/", exists as a directory, or several sources are given;
//   - sources may be globs (Go filepath.Match on context-relative paths);
//   - with --parents, a source lands at DEST/ITS/PATH ("a/./b/c" → DEST/b/c);
//   - context files belong to 0:0, files from a stage keep their owners,
//     unless --chown; --chmod sets modes; --exclude drops matches.
// Paths are resolved fd-relatively inside the source root, never outside.

#include <optional>
#include <string>
#include <vector>

#include "builder/ignore.hpp"
#include "oci/layer_entry.hpp"

namespace kiln::builder {

enum class SourceKind { context, filesystem };

struct CopyRequest
{
  std::vector<std::string> sources;
  std::string destination;      // absolute, WORKDIR already applied
  bool destination_is_dir = false; // DEST exists as a directory below
  std::optional<std::pair<uint32_t, uint32_t>> chown;
  std::optional<uint32_t> chmod;
  std::vector<std::string> excludes;
  // ADD: a local tar source is extracted at DEST instead of copied.
  bool extract_archives = false;
  // --parents: sources keep their path below DEST (after a "/./" pivot in
  // the source when there is one), as BuildKit does.
  bool parents = false;
};

struct CopyPlan
{
  std::vector<oci::LayerEntry> entries;
  // Where each entry came from, relative to the source root ("" for none;
  // also for what ADD extracted from an archive), for cache keys and messages.
  std::vector<std::string> origins;
  size_t files = 0;
  uint64_t bytes = 0;
};

// Plans the entries; root_fd is the source tree (`root` its path, used for
// ADD's archives), `ignore` the context's ignore matcher (context only),
// `spool` a directory for extracted archives. Errors name the source that
// matched nothing.
Result<CopyPlan> plan_copy(int root_fd, const std::filesystem::path& root, SourceKind kind,
                           const IgnoreMatcher* ignore, const CopyRequest& request,
                           const std::filesystem::path& spool);

// Parses --chmod's octal mode ("0755", "644").
std::optional<uint32_t> parse_octal_mode(std::string_view text);

} // namespace kiln::builder
