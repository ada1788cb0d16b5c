#pragma once

// What a sandboxed run changed, read from its upper directory, so the layer
// writer can emit the entries and the `.wh.` markers of an OCI layer.
//
// An upper dir marks a deletion with a whiteout: a 0/0 character device
// (kernel overlayfs, fuse-overlayfs when mknod works), a `.wh.NAME` file
// (fuse-overlayfs otherwise), or a file carrying an overlay "whiteout" xattr.
// It marks a directory whose lower contents are hidden as opaque: the xattr
// trusted.overlay.opaque / user.overlay.opaque (the latter when overlayfs is
// mounted in a user namespace with userxattr) or user.fuseoverlayfs.opaque
// set to "y", or a `.wh..wh..opq` file (fuse-overlayfs adds a `.wh..opq`
// 0/0 device) inside it.

#include "base/fileio.hpp"
#include "base/result.hpp"
#include "builder/idmap.hpp"
#include "oci/layer_writer.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace kiln::builder {

struct ChangedEntry
{
  std::string path; // relative to the root, "etc/passwd"
  mode_t mode = 0;  // st_mode: type and permissions
  uint32_t uid = 0; // container ids
  uint32_t gid = 0;
};

struct UpperChanges
{
  std::vector<ChangedEntry> changed; // added or modified entries, directories included, sorted
  std::vector<std::string> deleted;  // paths that were removed (whiteouts), sorted
  std::vector<std::string> opaque;   // directories whose lower contents are hidden, sorted

  bool empty() const { return changed.empty() && deleted.empty() && opaque.empty(); }
};

// Walks the upper directory at upper. Files there carry host ids of map's
// ranges; the result carries container ids. When the current user cannot
// read every file (an unprivileged user with a subordinate range), the walk
// runs inside a user namespace with map.
Result<UpperChanges> scan_upper(const std::filesystem::path& upper, const IdMap& map);

// The walk itself, on a directory this process can read; host ids are
// translated with to_container (identity inside the user namespace).
enum class IdView { host, container };
Result<UpperChanges> scan_upper_here(int upper_fd, const IdMap& map, IdView view);

// The layer items of an upper directory, in layer order, for
// write_layer_ordered: a whiteout or opaque marker only where something
// exists in the lower directories (`lowers`, open, top last) below it.
// Kernel overlayfs writes none other, but fuse-overlayfs and the
// copy-and-diff fallback can, and a layer should not carry deletions of
// nothing.
oci::LayerItemSource upper_layer_items(int upper_fd, const std::vector<Fd>& lowers);

// True for the xattrs overlayfs and fuse-overlayfs keep for themselves
// (trusted.overlay.*, user.overlay.*, user.fuseoverlayfs.*), which the layer
// writer must not copy into a layer.
bool is_overlay_private_xattr(std::string_view name);

} // namespace kiln::builder
