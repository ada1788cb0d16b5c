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

// Walks the tree under dir_fd (not including the root itself) and hands
// each item to visit in layer order (see LayerItem), so a layer writer can
// stream it without sorting. Memory is one directory listing per level of
// depth: a directory's children are listed and sorted together with the key
// "NAME/" for each subdirectory's contents, which is where every path under
// it sorts among its siblings ("a", "a-b", "a.b", then "a/b").
// In overlay_upper mode, 0/0 character devices and ".wh.NAME" files become
// deletions, directories marked opaque (trusted. or user.overlay.opaque=y)
// add an opaque deletion, and overlay's own xattrs are dropped.
// Regular files are read later through LayerEntry::source_root.
Result<void> walk_tree_ordered(int dir_fd, WalkMode mode, const LayerItemVisitor& visit);

// The same walk collected into lists (in layer order), for callers that need
// the whole tree at once. With `only`, the walk covers one child of dir_fd
// by that name (no "/"): the child itself and, for a directory, everything
// under it, without listing or statting its siblings; nothing when there is
// no such child.
Result<WalkResult> walk_tree(int dir_fd, WalkMode mode = WalkMode::plain, const std::string& only = {});

// The same for a path (opened O_DIRECTORY | O_NOFOLLOW).
Result<WalkResult> walk_tree(const std::string& dir, WalkMode mode = WalkMode::plain);

} // namespace kiln::oci
