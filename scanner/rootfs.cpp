#include "scanner/rootfs.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kiln::scanner {

namespace {

EntryType type_of(unsigned char d_type, int dirfd, const char* name)
{
  switch (d_type) {
  case DT_REG:
    return EntryType::file;
  case DT_DIR:
    return EntryType::directory;
  case DT_LNK:
    return EntryType::symlink;
  case DT_UNKNOWN:
    break;
  default:
    return EntryType::other;
  }
  struct stat st
  {
  };
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return EntryType::other;
  }
  return S_ISREG(st.st_mode)   ? EntryType::file
         : S_ISDIR(st.st_mode) ? EntryType::directory
         : S_ISLNK(st.st_mode) ? EntryType::symlink
                               : EntryType::other;
}

// Entries of an open directory, sorted by name; takes ownership of fd.
Result<std::vector<DirEntry>> entries(Fd fd)
{
  int raw = fd.release();
  DIR* dir = fdopendir(raw);
  if (!dir) {
    int err = errno;
    close(raw);
    return fail(errno_text(err));
  }
  std::vector<DirEntry> out;
  errno = 0;
  while (dirent* d = readdir(dir)) {
    std::string_view name = d->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    out.push_back({std::string(name), type_of(d->d_type, dirfd(dir), d->d_name)});
  }
  int err = errno;
  closedir(dir);
  if (err != 0) {
    return fail(errno_text(err));
  }
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

} // namespace

Result<Rootfs> Rootfs::open(const std::filesystem::path& dir)
{
  Fd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("open root filesystem {}: {}", dir.string(), errno_text(errno)));
  }
  return Rootfs(std::move(fd));
}

Result<Rootfs> Rootfs::from_fd(int dirfd)
{
  Fd fd(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!fd) {
    return fail(fmt::format("open root filesystem (fd {}): {}", dirfd, errno_text(errno)));
  }
  return Rootfs(std::move(fd));
}

Fd Rootfs::open_in_root(std::string_view path, int flags, int& err) const
{
  std::string relative(path);
  while (!relative.empty() && relative.front() == '/') {
    relative.erase(0, 1);
  }
  if (relative.empty()) {
    relative = ".";
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  for (;;) {
    long fd = syscall(SYS_openat2, m_root.get(), relative.c_str(), &how, sizeof how);
    if (fd >= 0) {
      err = 0;
      return Fd(static_cast<int>(fd));
    }
    if (errno == EAGAIN || errno == EINTR) {
      continue; // the kernel asks for a retry when a rename raced the lookup
    }
    err = errno;
    return Fd();
  }
}

Result<std::optional<std::string>> Rootfs::read(std::string_view path, size_t max_size) const
{
  int err = 0;
  auto fd = open_in_root(path, O_RDONLY | O_NONBLOCK, err);
  if (!fd) {
    if (err == ENOENT || err == ENOTDIR) {
      return std::optional<std::string>();
    }
    return fail(fmt::format("read {}: {}", path, errno_text(err)));
  }
  struct stat st
  {
  };
  if (fstat(fd.get(), &st) != 0) {
    return fail(fmt::format("read {}: {}", path, errno_text(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(fmt::format("read {}: not a regular file", path));
  }
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(fmt::format("read {}: {}", path, errno_text(errno)));
    }
    if (n == 0) {
      break;
    }
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > max_size) {
      return fail(fmt::format("read {}: larger than {} bytes", path, max_size));
    }
  }
  return std::optional<std::string>(std::move(data));
}

Result<std::optional<std::vector<DirEntry>>> Rootfs::list(std::string_view path) const
{
  int err = 0;
  auto fd = open_in_root(path, O_RDONLY | O_DIRECTORY, err);
  if (!fd) {
    if (err == ENOENT || err == ENOTDIR) {
      return std::optional<std::vector<DirEntry>>();
    }
    return fail(fmt::format("list {}: {}", path, errno_text(err)));
  }
  auto list = entries(std::move(fd));
  if (!list) {
    return fail(fmt::format("list {}: {}", path, list.error()));
  }
  return std::optional<std::vector<DirEntry>>(std::move(*list));
}

namespace {

void walk_dir(int dirfd, const std::string& prefix,
              const std::function<bool(const std::string&, EntryType)>& visit,
              const std::function<void(const std::string&)>& warn)
{
  Fd self(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  auto list = self ? entries(std::move(self)) : fail(errno_text(errno));
  if (!list) {
    warn(fmt::format("walk {}: {}; skipped", prefix.empty() ? "/" : prefix, list.error()));
    return;
  }
  for (const auto& e : *list) {
    std::string path = prefix.empty() ? e.name : prefix + "/" + e.name;
    if (!visit(path, e.type) || e.type != EntryType::directory) {
      continue;
    }
    Fd child(openat(dirfd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child) {
      warn(fmt::format("walk {}: {}; skipped", path, errno_text(errno)));
      continue;
    }
    walk_dir(child.get(), path, visit, warn);
  }
}

} // namespace

void Rootfs::walk(const std::function<bool(const std::string&, EntryType)>& visit,
                  const std::function<void(const std::string&)>& warn) const
{
  int err = 0;
  auto root = open_in_root(".", O_RDONLY | O_DIRECTORY, err);
  if (!root) {
    warn(fmt::format("walk /: {}", errno_text(err)));
    return;
  }
  walk_dir(root.get(), "", visit, warn);
}

} // namespace kiln::scanner
