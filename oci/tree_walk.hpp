#pragma once

// Lists a directory tree as layer entries, fd-relative and without following
// any symlink, so a tree that changes under the walk cannot point it
// elsewhere.

#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/layer_entry.hpp"

namespace kiln::oci {

enum class WalkMode {
  plain,         // every entry is content
  overlay_upper, // an overlayfs upper directory: whiteouts become deletions
};

struct WalkResult
{
  std::vector<LayerEntry> entries;
  std::vector<Deletion> deletions;
};

// Walks the tree under dir_fd (not including the root itself). In
// overlay_upper mode, 0/0 character devices and ".wh.NAME" files become
// deletions, directories marked opaque (trusted. or user.overlay.opaque=y)
// add an opaque deletion, and overlay's own xattrs are dropped.
Result<WalkResult> walk_tree(int dir_fd, WalkMode mode = WalkMode::plain);

// The same for a path (opened O_DIRECTORY | O_NOFOLLOW).
Result<WalkResult> walk_tree(const std::string& dir, WalkMode mode = WalkMode::plain);

} // namespace kiln::oci
