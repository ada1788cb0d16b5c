#pragma once

// Read-only access to an image's root filesystem through a directory fd.
// Paths inside an image are hostile: every open goes through
// openat2(RESOLVE_IN_ROOT), so absolute symlinks are re-rooted at the image
// root and ".." never climbs above it, and the tree walk never follows a
// symlink at all.

#include "base/fileio.hpp"
#include "base/result.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

enum class EntryType { file, directory, symlink, other };

struct DirEntry
{
  std::string name;
  EntryType type;
};

class Rootfs
{
public:
  // Opens a directory as the root (O_PATH).
  static Result<Rootfs> open(const std::filesystem::path& dir);
  // Adopts a directory fd the caller already holds (the builder's layer tree).
  static Result<Rootfs> from_fd(int dirfd);

  int fd() const { return m_root.get(); }

  // A file's content by rootfs path ("etc/os-release"); nullopt when it does
  // not exist (ENOENT/ENOTDIR). Links resolve inside the root. Reads at most
  // max_size bytes and fails beyond that.
  Result<std::optional<std::string>> read(std::string_view path, size_t max_size = 64 << 20) const;

  // A directory's entries (not recursive); nullopt when it does not exist.
  Result<std::optional<std::vector<DirEntry>>> list(std::string_view path) const;

  // Visits every entry below the root, depth first in name order, without
  // following symlinks. The callback gets the rootfs path and the type, and
  // returns false to skip descending into a directory. Unreadable
  // directories are reported through `warn` and skipped.
  void walk(const std::function<bool(const std::string& path, EntryType type)>& visit,
            const std::function<void(const std::string&)>& warn) const;

private:
  explicit Rootfs(Fd root) : m_root(std::move(root)) {}
  // An invalid Fd and err set on failure.
  Fd open_in_root(std::string_view path, int flags, int& err) const;
  Fd m_root;
};

} // namespace kiln::scanner
