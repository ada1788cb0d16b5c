#pragma once

// The last-resort rootfs driver, for hosts where neither kernel overlayfs
// nor fuse-overlayfs can be mounted: the layers are copied into one
// directory, the command runs there, and the difference against a record
// taken after the copy is written to the upper dir in overlayfs's own form
// (changed entries, 0/0 whiteouts, user.overlay.opaque), so scan_upper and
// the layer writer cannot tell the drivers apart.

#include "base/result.hpp"

#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace kiln::builder {

// Identity and change stamp of an entry. The birth time tells a directory
// deleted and made again apart from the old one even when the filesystem
// hands out the freed inode number again (ext4 does at once).
struct SnapshotEntry
{
  ino_t ino = 0;
  mode_t mode = 0;
  struct timespec ctime = {};
  struct timespec btime = {}; // zero when the filesystem has none
};

// Every path of the populated tree (relative, "etc/passwd") after the copy.
struct Snapshot
{
  std::map<std::string, SnapshotEntry> entries;
};

// Copies lower_dirs (bottom first) into merged_fd, applying each layer's
// whiteouts and opaque markers, and records the result. Ownership, modes,
// times and xattrs are kept; a hard link becomes a copy; a device node
// other than a whiteout is skipped (no mknod in a user namespace).
Result<Snapshot> snapshot_populate(const std::vector<std::filesystem::path>& lower_dirs, int merged_fd);

// Writes into upper_fd what changed in root_fd since snapshot.
Result<void> snapshot_diff(const Snapshot& snapshot, int root_fd, int upper_fd);

} // namespace kiln::builder
