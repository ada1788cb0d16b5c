#pragma once

// One filesystem entry headed for a layer, however it was found: a directory
// walk, an overlay upper directory, or a synthesised set (COPY). The layer
// writer turns a list of these into a normalised tar stream.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/fileio.hpp"
#include "base/result.hpp"

namespace kiln::oci {

enum class EntryType { regular, directory, symlink, hardlink, char_device, block_device, fifo };

struct LayerEntry
{
  // Path inside the layer: relative, '/'-separated, no "./" prefix, no
  // trailing slash ("usr/bin/env").
  std::string path;
  EntryType type = EntryType::regular;
  uint32_t mode = 0644; // permission bits including setuid, setgid and sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;           // unix seconds
  uint64_t size = 0;           // regular files only
  std::string link_target;     // symlink: its target, as stored
  std::string hardlink_target; // hardlink: the layer path it links to
  // Identity for hardlink detection: entries with the same (device, inode)
  // and nlink > 1 are written once and linked afterwards. 0 means unknown.
  uint64_t device = 0;
  uint64_t inode = 0;
  uint32_t nlink = 1;
  uint32_t dev_major = 0; // char and block devices
  uint32_t dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs; // name → raw value
  // Opens the regular file's content for reading (the writer reads exactly
  // `size` bytes). Unset for other types.
  std::function<Result<Fd>()> open;
  // Without `open`: the content is `path` beneath this directory, opened
  // with open_beneath. Cheaper than a closure per file for large walks.
  std::shared_ptr<const Fd> source_root;
};

// A path the layer deletes from the layers below it.
enum class DeletionKind {
  path,   // ".wh.NAME": NAME is gone
  opaque, // ".wh..wh..opq": the directory's lower contents are gone
};

struct Deletion
{
  std::string path; // for opaque, the directory whose lower contents go
  DeletionKind kind = DeletionKind::path;
};

// One item of a layer as a stream: an entry or a deletion. In "layer order"
// items are sorted bytewise by the path they have in the tar stream: an
// entry's path, a deletion's marker path ("dir/.wh.NAME", "dir/.wh..wh..opq").
using LayerItem = std::variant<LayerEntry, Deletion>;
using LayerItemVisitor = std::function<Result<void>(LayerItem)>;

// Opens `relative` beneath dir_fd for reading without following any symlink
// on the way (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a file swapped for a
// symlink between walk and read cannot leak content from elsewhere.
Result<Fd> open_beneath(int dir_fd, const std::string& relative);

// An opener for LayerEntry::open reading `relative` beneath a shared root.
std::function<Result<Fd>()> opener_beneath(std::shared_ptr<const Fd> root, std::string relative);

} // namespace kiln::oci
