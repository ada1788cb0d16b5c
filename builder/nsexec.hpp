#pragma once

// Work that must see the build's files as the container does (owners as
// container ids, every mapped file readable) runs in a child inside a user
// namespace with the build's id map. What it produces streams back through
// a pipe, so the parent, which owns the content store, writes the blob: as
// root, container root is an unprivileged host id that could not.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/fileio.hpp"
#include "builder/idmap.hpp"
#include "oci/sink.hpp"

namespace kiln::builder {

// Runs produce(sink) inside a user namespace with `map`; the bytes it writes
// arrive in `out`. Returns the text produce returned, or its error.
Result<std::string> stream_from_user_namespace(const IdMap& map,
                                               const std::function<Result<std::string>(oci::Sink&)>& produce,
                                               oci::Sink& out);

// Runs work inside a user namespace with `map` (no data stream).
Result<void> run_in_namespace(const IdMap& map, const std::function<Result<void>()>& work);

// Host paths for a child in a user namespace that mounts them. As root,
// container root is an unprivileged host id that may not search a path's
// parents (a cache under /root, which is 0700). The anchor, the deepest
// directory above all the paths, is opened here; the child changes into it
// (enter) before it makes its mount namespace, which carries the working
// directory over, and names the paths relative to it: a relative lookup
// starts at the working directory, so the directories above it are never
// searched. (A /proc/self/fd/N path would not do: it leads into the parent's
// mount namespace, and overlayfs and mount(2) refuse a path from another.)
class PathAnchor
{
public:
  static Result<PathAnchor> open(const std::vector<std::filesystem::path>& paths);
  // path as the child names it: relative to the anchor when below it.
  std::filesystem::path operator()(const std::filesystem::path& path) const;
  // In the child, before unshare(CLONE_NEWNS): a one-line error (container
  // root must be able to search the anchor itself).
  Result<void> enter() const;

private:
  std::filesystem::path m_dir;
  Fd m_fd;
};

} // namespace kiln::builder
