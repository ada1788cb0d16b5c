#include "builder/snapshot.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "builder/upper.hpp"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <set>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace kiln::builder {

namespace {

constexpr std::string_view k_whiteout_prefix = ".wh.";
constexpr std::string_view k_opaque_marker = ".wh..wh..opq";
constexpr std::string_view k_fuse_opaque_marker = ".wh..opq"; // see upper.cpp

std::string join(const std::string& prefix, const std::string& name)
{
  return prefix.empty() ? name : prefix + "/" + name;
}

SnapshotEntry entry_of(int dir_fd, const std::string& name, const struct stat& st)
{
  SnapshotEntry entry{st.st_ino, st.st_mode, st.st_ctim, {}};
  struct statx stx;
  if (::statx(dir_fd, name.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) == 0 &&
      (stx.stx_mask & STATX_BTIME)) {
    entry.btime = {stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec};
  }
  return entry;
}

bool is_whiteout(const struct stat& st)
{
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool opaque_xattr(int dir_fd)
{
  char value[4];
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"}) {
    ssize_t n = ::fgetxattr(dir_fd, name, value, sizeof(value));
    if (n == 1 && value[0] == 'y') {
      return true;
    }
  }
  return false;
}

void copy_xattrs(int src_fd, int dst_fd)
{
  char names[8192];
  ssize_t size = ::flistxattr(src_fd, names, sizeof(names));
  for (ssize_t i = 0; i < size;) {
    std::string_view name(names + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (is_overlay_private_xattr(name)) {
      continue;
    }
    char value[65536];
    ssize_t n = ::fgetxattr(src_fd, name.data(), value, sizeof(value));
    if (n >= 0) {
      ::fsetxattr(dst_fd, name.data(), value, static_cast<size_t>(n), 0);
    }
  }
}

// Removes name under dir_fd, whatever it is.
void remove_entry(int dir_fd, const std::string& name)
{
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub) {
      if (auto names = list_directory(sub.get())) {
        for (const auto& child : *names) {
          remove_entry(sub.get(), child);
        }
      }
    }
    ::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR);
  } else {
    ::unlinkat(dir_fd, name.c_str(), 0);
  }
}

void set_times(int fd, const struct stat& st)
{
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  ::futimens(fd, times);
}

// Copies one non-directory entry; the caller handles directories.
Result<void> copy_leaf(int src_dir, int dst_dir, const std::string& name, const struct stat& st)
{
  if (S_ISREG(st.st_mode)) {
    Fd src(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    Fd dst(::openat(dst_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!src || !dst) {
      return fail(fmt::format("copy \"{}\": {}", name, errno_text(errno)));
    }
    for (;;) {
      ssize_t n = ::copy_file_range(src.get(), nullptr, dst.get(), nullptr, 1 << 30, 0);
      if (n == 0) {
        break;
      }
      if (n < 0) {
        // Across filesystems on older kernels: plain reads and writes.
        char buffer[65536];
        ssize_t r;
        while ((r = ::read(src.get(), buffer, sizeof(buffer))) > 0) {
          if (!write_all(dst.get(), buffer, static_cast<size_t>(r))) {
            return fail(fmt::format("copy \"{}\": {}", name, errno_text(errno)));
          }
        }
        break;
      }
    }
    copy_xattrs(src.get(), dst.get());
    if (::fchown(dst.get(), st.st_uid, st.st_gid) != 0 || ::fchmod(dst.get(), st.st_mode & 07777) != 0) {
      return fail(fmt::format("copy \"{}\": set owner and mode: {}", name, errno_text(errno)));
    }
    set_times(dst.get(), st);
    return {};
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
    if (n < 0) {
      return fail(fmt::format("read link \"{}\": {}", name, errno_text(errno)));
    }
    target.resize(static_cast<size_t>(n));
    if (::symlinkat(target.c_str(), dst_dir, name.c_str()) != 0) {
      return fail(fmt::format("copy link \"{}\": {}", name, errno_text(errno)));
    }
    ::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(dst_dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    return {};
  }
  if (S_ISFIFO(st.st_mode) || is_whiteout(st)) {
    if (::mknodat(dst_dir, name.c_str(), st.st_mode, st.st_rdev) != 0) {
      return fail(fmt::format("copy \"{}\": mknod: {}", name, errno_text(errno)));
    }
    ::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
    return {};
  }
  // Devices and sockets cannot be made in a user namespace.
  return {};
}

Result<Fd> make_dir_like(int dst_dir, const std::string& name, int src_fd, const struct stat& st)
{
  if (::mkdirat(dst_dir, name.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(fmt::format("make directory \"{}\": {}", name, errno_text(errno)));
  }
  Fd dst(::openat(dst_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst) {
    return fail(fmt::format("open directory \"{}\": {}", name, errno_text(errno)));
  }
  if (src_fd >= 0) {
    copy_xattrs(src_fd, dst.get());
  }
  if (::fchown(dst.get(), st.st_uid, st.st_gid) != 0 || ::fchmod(dst.get(), st.st_mode & 07777) != 0) {
    return fail(fmt::format("directory \"{}\": set owner and mode: {}", name, errno_text(errno)));
  }
  return dst;
}

Result<void> apply_layer(int src, int dst, const std::string& prefix)
{
  auto names = list_directory(src);
  if (!names) {
    return fail(fmt::format("read layer directory \"/{}\": {}", prefix, names.error()));
  }
  bool opaque = opaque_xattr(src);
  for (const auto& name : *names) {
    opaque = opaque || name == k_opaque_marker || name == k_fuse_opaque_marker;
  }
  if (opaque) {
    if (auto existing = list_directory(dst)) {
      for (const auto& name : *existing) {
        remove_entry(dst, name);
      }
    }
  }
  for (const auto& name : *names) {
    if (name == k_opaque_marker || name == k_fuse_opaque_marker) {
      continue;
    }
    if (starts_with(name, k_whiteout_prefix)) {
      remove_entry(dst, name.substr(k_whiteout_prefix.size()));
      continue;
    }
    struct stat st;
    if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return fail(fmt::format("stat \"/{}\": {}", join(prefix, name), errno_text(errno)));
    }
    if (is_whiteout(st)) {
      remove_entry(dst, name);
      continue;
    }
    struct stat existing;
    bool exists = ::fstatat(dst, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISDIR(st.st_mode)) {
      if (exists && !S_ISDIR(existing.st_mode)) {
        remove_entry(dst, name);
      }
      Fd sub(::openat(src, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        return fail(fmt::format("open \"/{}\": {}", join(prefix, name), errno_text(errno)));
      }
      auto made = make_dir_like(dst, name, sub.get(), st);
      if (!made) {
        return tl::unexpected(made.error());
      }
      if (auto ok = apply_layer(sub.get(), made->get(), join(prefix, name)); !ok) {
        return ok;
      }
      set_times(made->get(), st);
      continue;
    }
    if (exists) {
      remove_entry(dst, name);
    }
    if (auto ok = copy_leaf(src, dst, name, st); !ok) {
      return fail(fmt::format("/{}: {}", prefix, ok.error()));
    }
  }
  return {};
}

Result<void> record(int dir_fd, const std::string& prefix, Snapshot& snapshot)
{
  auto names = list_directory(dir_fd);
  if (!names) {
    return fail(fmt::format("read \"/{}\": {}", prefix, names.error()));
  }
  for (const auto& name : *names) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    std::string path = join(prefix, name);
    snapshot.entries[path] = entry_of(dir_fd, name, st);
    if (S_ISDIR(st.st_mode)) {
      Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (sub) {
        if (auto ok = record(sub.get(), path, snapshot); !ok) {
          return ok;
        }
      }
    }
  }
  return {};
}

// A directory of the upper dir made only when something below it changed,
// with its metadata copied from the rootfs, as overlayfs copies up parents.
struct UpperCursor
{
  UpperCursor* parent = nullptr;
  std::string name;
  int root_dir = -1; // the directory in the rootfs
  struct stat st = {};
  Fd fd;

  Result<int> ensure()
  {
    if (fd) {
      return fd.get();
    }
    auto parent_fd = parent->ensure();
    if (!parent_fd) {
      return parent_fd;
    }
    auto made = make_dir_like(*parent_fd, name, root_dir, st);
    if (!made) {
      return tl::unexpected(made.error());
    }
    fd = std::move(*made);
    return fd.get();
  }
};

class Differ
{
public:
  explicit Differ(const Snapshot& snapshot) : m_snapshot(snapshot) {}

  Result<void> walk(int dir_fd, const std::string& prefix, UpperCursor& upper, bool below_new)
  {
    auto names = list_directory(dir_fd);
    if (!names) {
      return fail(fmt::format("read \"/{}\": {}", prefix, names.error()));
    }
    for (const auto& name : *names) {
      std::string path = join(prefix, name);
      m_seen.insert(path);
      struct stat st;
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        continue;
      }
      auto old = m_snapshot.entries.find(path);
      auto now = entry_of(dir_fd, name, st);
      bool is_new = below_new || old == m_snapshot.entries.end() || old->second.ino != st.st_ino ||
                    (old->second.mode & S_IFMT) != (st.st_mode & S_IFMT) ||
                    old->second.btime.tv_sec != now.btime.tv_sec ||
                    old->second.btime.tv_nsec != now.btime.tv_nsec;
      bool changed = is_new || old->second.ctime.tv_sec != st.st_ctim.tv_sec ||
                     old->second.ctime.tv_nsec != st.st_ctim.tv_nsec;
      if (S_ISDIR(st.st_mode)) {
        Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) {
          return fail(fmt::format("open \"/{}\": {}", path, errno_text(errno)));
        }
        UpperCursor cursor{&upper, name, sub.get(), st, Fd()};
        bool replaced = !below_new && is_new && old != m_snapshot.entries.end();
        if (changed) {
          auto fd = cursor.ensure();
          if (!fd) {
            return tl::unexpected(fd.error());
          }
          if (replaced) {
            // A directory deleted and made again hides everything below it.
            ::fsetxattr(*fd, "user.overlay.opaque", "y", 1, 0);
            m_replaced.insert(path);
          }
        }
        if (auto ok = walk(sub.get(), path, cursor, is_new); !ok) {
          return ok;
        }
        if (cursor.fd) {
          set_times(cursor.fd.get(), st);
        }
        continue;
      }
      if (!changed) {
        continue;
      }
      auto parent_fd = upper.ensure();
      if (!parent_fd) {
        return tl::unexpected(parent_fd.error());
      }
      if (auto ok = copy_leaf(dir_fd, *parent_fd, name, st); !ok) {
        return fail(fmt::format("/{}: {}", prefix, ok.error()));
      }
    }
    return {};
  }

  // Whiteouts for the topmost vanished paths whose parent directory is
  // still the one from the snapshot.
  Result<void> whiteouts(int root_fd, int upper_fd)
  {
    std::set<std::string> gone;
    for (const auto& [path, entry] : m_snapshot.entries) {
      if (m_seen.count(path)) {
        continue;
      }
      auto slash = path.rfind('/');
      std::string parent = slash == std::string::npos ? "" : path.substr(0, slash);
      if (!parent.empty() && (gone.count(parent) || m_replaced.count(parent) || !m_seen.count(parent))) {
        gone.insert(path);
        continue;
      }
      gone.insert(path);
      if (auto ok =
              whiteout(root_fd, upper_fd, parent, path.substr(slash == std::string::npos ? 0 : slash + 1));
          !ok) {
        return ok;
      }
    }
    return {};
  }

private:
  Result<void> whiteout(int root_fd, int upper_fd, const std::string& parent, const std::string& name)
  {
    // Build the upper parent chain (copying metadata from the rootfs).
    UpperCursor top{nullptr, "", root_fd, {}, Fd(::fcntl(upper_fd, F_DUPFD_CLOEXEC, 0))};
    std::vector<std::unique_ptr<UpperCursor>> chain;
    std::vector<Fd> dirs;
    UpperCursor* cursor = &top;
    int dir = root_fd;
    for (auto part : split(parent, '/')) {
      if (part.empty()) {
        continue;
      }
      std::string p(part);
      Fd sub(::openat(dir, p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      struct stat st;
      if (!sub || ::fstat(sub.get(), &st) != 0) {
        return fail(fmt::format("whiteout \"{}/{}\": open parent: {}", parent, name, errno_text(errno)));
      }
      chain.push_back(std::make_unique<UpperCursor>(UpperCursor{cursor, p, sub.get(), st, Fd()}));
      Fd existing(::openat(cursor->fd ? cursor->fd.get() : -1, p.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (existing) {
        chain.back()->fd = std::move(existing);
      }
      cursor = chain.back().get();
      dir = sub.get();
      dirs.push_back(std::move(sub));
    }
    auto fd = cursor->ensure();
    if (!fd) {
      return tl::unexpected(fd.error());
    }
    if (::mknodat(*fd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      return fail(fmt::format("whiteout \"{}/{}\": mknod: {}", parent, name, errno_text(errno)));
    }
    return {};
  }

  const Snapshot& m_snapshot;
  std::set<std::string> m_seen;
  std::set<std::string> m_replaced;
};

} // namespace

Result<Snapshot> snapshot_populate(const std::vector<std::filesystem::path>& lower_dirs, int merged_fd)
{
  for (const auto& lower : lower_dirs) {
    Fd src(::open(lower.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!src) {
      return fail(fmt::format("snapshot: open layer \"{}\": {}", lower.string(), errno_text(errno)));
    }
    if (auto ok = apply_layer(src.get(), merged_fd, ""); !ok) {
      return fail(fmt::format("snapshot: layer \"{}\": {}", lower.string(), ok.error()));
    }
    struct stat st;
    if (::fstat(src.get(), &st) == 0) {
      ::fchown(merged_fd, st.st_uid, st.st_gid);
      ::fchmod(merged_fd, st.st_mode & 07777);
    }
  }
  Snapshot snapshot;
  if (auto ok = record(merged_fd, "", snapshot); !ok) {
    return tl::unexpected(ok.error());
  }
  return snapshot;
}

Result<void> snapshot_diff(const Snapshot& snapshot, int root_fd, int upper_fd)
{
  Differ differ(snapshot);
  UpperCursor top{nullptr, "", root_fd, {}, Fd(::fcntl(upper_fd, F_DUPFD_CLOEXEC, 0))};
  if (auto ok = differ.walk(root_fd, "", top, false); !ok) {
    return fail(fmt::format("snapshot diff: {}", ok.error()));
  }
  if (auto ok = differ.whiteouts(root_fd, upper_fd); !ok) {
    return fail(fmt::format("snapshot diff: {}", ok.error()));
  }
  return {};
}

} // namespace kiln::builder
