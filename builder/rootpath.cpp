#include "builder/rootpath.hpp"

#include "base/error.hpp"
#include "base/strings.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fmt/core.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace kiln::builder {

std::string normalize_relative(std::string_view path)
{
  std::string result;
  for (auto part : split(path, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (!result.empty()) {
      result += '/';
    }
    result += part;
  }
  return result;
}

Result<Fd> open_in_root(int root_fd, std::string_view path, int flags)
{
  std::string rel = normalize_relative(path);
  if (rel.empty()) {
    rel = ".";
  }
  // glibc 2.36 has no openat2 wrapper.
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof(how));
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0) {
    return fail(fmt::format("open \"/{}\" in the rootfs: {}", rel == "." ? "" : rel, errno_text(errno)));
  }
  return Fd(static_cast<int>(fd));
}

Result<Fd> make_in_root(int root_fd, std::string_view path, NodeKind kind, mode_t mode,
                        std::vector<std::string>& created)
{
  std::string rel = normalize_relative(path);
  if (rel.empty()) {
    return open_in_root(root_fd, ".", O_PATH | O_DIRECTORY);
  }
  auto parts = split(rel, '/');
  Fd parent(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string name(parts[i]);
    prefix = prefix.empty() ? name : prefix + "/" + name;
    bool last = i + 1 == parts.size();
    if (name == "..") {
      auto up = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
      if (!up) {
        return up;
      }
      parent = std::move(*up);
      continue;
    }
    bool want_dir = !last || kind == NodeKind::directory;
    int made = want_dir ? ::mkdirat(parent.get(), name.c_str(), last ? mode : 0755) : [&] {
      int fd =
          ::openat(parent.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
      return fd < 0 ? -1 : ::close(fd);
    }();
    if (made == 0) {
      created.push_back(prefix);
    } else if (errno != EEXIST) {
      return fail(fmt::format("create \"/{}\" in the rootfs: {}", prefix, errno_text(errno)));
    }
    // An existing symlink is followed, but only inside the root.
    auto next = open_in_root(root_fd, prefix, O_PATH | (want_dir ? O_DIRECTORY : 0));
    if (!next) {
      return next;
    }
    parent = std::move(*next);
  }
  return parent;
}

void remove_created(int root_fd, const std::vector<std::string>& created)
{
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    auto slash = it->rfind('/');
    std::string dir = slash == std::string::npos ? "." : it->substr(0, slash);
    std::string name = slash == std::string::npos ? *it : it->substr(slash + 1);
    auto parent = open_in_root(root_fd, dir, O_PATH | O_DIRECTORY);
    if (!parent) {
      continue;
    }
    struct stat st;
    if (::fstatat(parent->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      ::unlinkat(parent->get(), name.c_str(), AT_REMOVEDIR);
    } else if (S_ISREG(st.st_mode) && st.st_size == 0) {
      ::unlinkat(parent->get(), name.c_str(), 0);
    }
  }
}

Result<std::string> read_in_root(int root_fd, std::string_view path)
{
  auto fd = open_in_root(root_fd, path, O_RDONLY);
  if (!fd) {
    return tl::unexpected(fd.error());
  }
  std::string data;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd->get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(fmt::format("read \"{}\" in the rootfs: {}", path, errno_text(errno)));
    }
    if (n == 0) {
      return data;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
}

std::string fd_path(int fd)
{
  return fmt::format("/proc/self/fd/{}", fd);
}

StackLookup look_up_in(const std::vector<Fd>& roots, const std::string& path, bool read)
{
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) {
    if (!*it) {
      continue;
    }
    auto fd = open_in_root(it->get(), path, O_PATH | O_NOFOLLOW);
    struct stat st;
    if (!fd || ::fstat(fd->get(), &st) != 0) {
      continue;
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      return {}; // a whiteout: deleted above the layers below
    }
    StackLookup found{true, S_ISDIR(st.st_mode), {}};
    if (read && S_ISREG(st.st_mode)) {
      found.content = read_in_root(it->get(), path).value_or("");
    }
    return found;
  }
  return {};
}

StackLookup look_up_on_disk(const std::vector<std::filesystem::path>& lowers, const std::string& path, bool read)
{
  std::vector<Fd> roots;
  for (const auto& lower : lowers) {
    roots.emplace_back(::open(lower.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  return look_up_in(roots, path, read);
}

} // namespace kiln::builder
