#pragma once

// fd-relative path helpers for paths that come from an image: every lookup
// goes through openat2(RESOLVE_IN_ROOT), so a symlink such as /etc -> /
// or a "../.." component resolves inside the rootfs and never on the host.

#include "base/fileio.hpp"
#include "base/result.hpp"

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace kiln::builder {

// Opens path (absolute or relative; both taken from root_fd) inside root_fd
// with openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS.
Result<Fd> open_in_root(int root_fd, std::string_view path, int flags);

enum class NodeKind { directory, file };

// Opens path inside root_fd as an O_PATH fd, first creating missing parent
// directories (0755) and the node itself (a directory or an empty file with
// mode). Appends each path it created, relative and in creation order, to
// created, so they can be removed again.
Result<Fd> make_in_root(int root_fd, std::string_view path, NodeKind kind, mode_t mode,
                        std::vector<std::string>& created);

// Removes what make_in_root created, newest first, skipping entries that are
// no longer an empty directory or empty file.
void remove_created(int root_fd, const std::vector<std::string>& created);

// Reads a whole file inside root_fd.
Result<std::string> read_in_root(int root_fd, std::string_view path);

// "/proc/self/fd/N": how mount(2) is pointed at a target opened
// fd-relatively (mount follows this magic link to the very inode).
std::string fd_path(int fd);

// The components of path without "", "." and leading "/" ("a/b/c").
std::string normalize_relative(std::string_view path);

// A path in a stack of overlay lower directories: the topmost directory
// that has it answers, and a whiteout (a 0/0 character device) there hides
// what is below.
struct StackLookup
{
  bool exists = false;
  bool directory = false;
  std::string content; // for regular files when asked
};

// roots: the lower directories, open, top last.
StackLookup look_up_in(const std::vector<Fd>& roots, const std::string& path, bool read);
// The same, opening the directories first.
StackLookup look_up_on_disk(const std::vector<std::filesystem::path>& lowers, const std::string& path, bool read);

} // namespace kiln::builder
