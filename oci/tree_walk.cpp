#include "oci/tree_walk.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"

namespace kiln::oci {

Result<Fd> open_beneath(int dir_fd, const std::string& relative)
{
  open_how how{};
  how.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof(how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) {
    return fail(fmt::format("open \"{}\": {}", relative, errno_text(errno)));
  }
  return Fd(static_cast<int>(fd));
}

std::function<Result<Fd>()> opener_beneath(std::shared_ptr<const Fd> root, std::string relative)
{
  return [root = std::move(root), relative = std::move(relative)]() {
    return open_beneath(root->get(), relative);
  };
}

namespace {

// listxattrat(2), Linux 6.13. New system calls share one number on most
// architectures since 5.1 (not on mips or alpha); libc headers do not name
// this one yet.
#if defined(SYS_listxattrat)
constexpr long k_sys_listxattrat = SYS_listxattrat;
#elif defined(__x86_64__) || defined(__aarch64__) || defined(__i386__) || defined(__arm__) || defined(__riscv)
constexpr long k_sys_listxattrat = 465;
#else
constexpr long k_sys_listxattrat = -1;
#endif
std::atomic<bool> g_listxattrat_missing{k_sys_listxattrat < 0};

// Lists the xattr names of dir_fd/name without following a final symlink.
// listxattrat does it fd-relative in one lookup; older kernels (and seccomp
// filters that do not know it) go through /proc/self/fd, whose procfs path
// walk made up about 6% of the CPU time of a zstd layer.
ssize_t list_xattr_names(int dir_fd, const std::string& name, const std::string& proc, char* buffer, size_t size)
{
  if (!g_listxattrat_missing.load(std::memory_order_relaxed)) {
    long n = ::syscall(k_sys_listxattrat, dir_fd, name.c_str(), AT_SYMLINK_NOFOLLOW, buffer, size);
    if (n >= 0 || (errno != ENOSYS && errno != EPERM)) {
      return static_cast<ssize_t>(n);
    }
    g_listxattrat_missing.store(true, std::memory_order_relaxed);
  }
  return ::llistxattr(proc.c_str(), buffer, size);
}

struct Walker
{
  std::shared_ptr<const Fd> root;
  WalkMode mode;
  const LayerItemVisitor& visit;
  std::string only; // the root's one child to walk, or empty for all

  // Extended attributes of dir_fd/name without following a final symlink:
  // listxattrat, or the l*xattr calls through /proc/self/fd, keep the walk
  // fd-relative.
  Result<std::vector<std::pair<std::string, std::string>>> xattrs(int dir_fd, const std::string& name,
                                                                  const std::string& rel)
  {
    std::string proc = fmt::format("/proc/self/fd/{}/{}", dir_fd, name);
    std::vector<std::pair<std::string, std::string>> out;
    // Most files have no xattrs or a few short ones: one call into a small
    // buffer, and a second only when the list does not fit.
    char small[512];
    std::string names;
    ssize_t size = list_xattr_names(dir_fd, name, proc, small, sizeof(small));
    if (size >= 0) {
      names.assign(small, static_cast<size_t>(size));
    } else if (errno == ERANGE) {
      do {
        size = list_xattr_names(dir_fd, name, proc, nullptr, 0);
        if (size >= 0) {
          names.resize(static_cast<size_t>(size));
          size = list_xattr_names(dir_fd, name, proc, names.data(), names.size());
        }
      } while (size < 0 && errno == ERANGE); // grew in between
    }
    if (size < 0) {
      if (errno == ENOTSUP || errno == ENODATA) {
        return out;
      }
      return fail(fmt::format("list xattrs of \"{}\": {}", rel, errno_text(errno)));
    }
    names.resize(static_cast<size_t>(size));
    for (size_t pos = 0; pos < names.size();) {
      std::string key = names.c_str() + pos;
      pos += key.size() + 1;
      if (key.empty() || key.starts_with("system.nfs4")) {
        continue;
      }
      ssize_t vsize = ::lgetxattr(proc.c_str(), key.c_str(), nullptr, 0);
      if (vsize < 0) {
        if (errno == ENODATA) {
          continue;
        }
        return fail(fmt::format("read xattr {} of \"{}\": {}", key, rel, errno_text(errno)));
      }
      std::string value(static_cast<size_t>(vsize), '\0');
      vsize = ::lgetxattr(proc.c_str(), key.c_str(), value.data(), value.size());
      if (vsize < 0) {
        return fail(fmt::format("read xattr {} of \"{}\": {}", key, rel, errno_text(errno)));
      }
      value.resize(static_cast<size_t>(vsize));
      out.emplace_back(std::move(key), std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static bool is_overlay_xattr(const std::string& key)
  {
    return key.starts_with("trusted.overlay.") || key.starts_with("user.overlay.") ||
           key.starts_with("user.fuseoverlayfs.");
  }

  // What a directory's child stands for in the layer, placed by its key.
  enum class Role {
    entry,    // the child itself
    contents, // everything under a child directory, keyed "NAME/"
    device,   // a 0/0 character device: deletes NAME, keyed ".wh.NAME"
    whiteout, // a ".wh.NAME" file: deletes NAME
    opaque,   // ".wh..wh..opq", as a file or from the directory's xattr
  };

  struct Child
  {
    std::string key;
    std::string name;
    Role role = Role::entry;
    struct stat st = {};
  };

  enum class Opaque { yes, no };

  static std::string join(const std::string& prefix, const std::string& name)
  {
    return prefix.empty() ? name : prefix + "/" + name;
  }

  Result<void> walk(int dir_fd, const std::string& prefix, Opaque opaque)
  {
    bool one = prefix.empty() && !only.empty();
    auto listed = one ? Result<std::vector<std::string>>(std::vector<std::string>{only}) : list_directory(dir_fd);
    if (!listed) {
      return fail(fmt::format("read directory \"{}\": {}", prefix.empty() ? "." : prefix, listed.error()));
    }
    std::vector<Child> children;
    children.reserve(listed->size() + 1);
    for (auto& name : *listed) {
      Child child;
      if (::fstatat(dir_fd, name.c_str(), &child.st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (one && errno == ENOENT) {
          continue;
        }
        return fail(fmt::format("stat \"{}\": {}", join(prefix, name), errno_text(errno)));
      }
      if (S_ISSOCK(child.st.st_mode)) {
        // Sockets have no meaning in an image; tar skips them too.
        continue;
      }
      child.key = name;
      if (mode == WalkMode::overlay_upper && S_ISCHR(child.st.st_mode) && child.st.st_rdev == 0) {
        child.key = ".wh." + name;
        child.role = Role::device;
      } else if (mode == WalkMode::overlay_upper && name.starts_with(".wh.")) {
        child.role = name == ".wh..wh..opq" ? Role::opaque : Role::whiteout;
      } else if (S_ISDIR(child.st.st_mode)) {
        children.push_back({name + "/", name, Role::contents, child.st});
      }
      child.name = std::move(name);
      children.push_back(std::move(child));
    }
    listed->clear();
    listed->shrink_to_fit();
    if (opaque == Opaque::yes && !one) {
      children.push_back({".wh..wh..opq", {}, Role::opaque, {}});
    }
    std::sort(children.begin(), children.end(), [](const Child& a, const Child& b) { return a.key < b.key; });
    // Child directories carrying overlay's opaque xattr, found while their
    // entry is visited, before their contents (whose key sorts later).
    std::vector<std::string> opaque_dirs;
    for (const auto& child : children) {
      Result<void> visited;
      switch (child.role) {
      case Role::entry:
        visited = visit_entry(dir_fd, prefix, child, opaque_dirs);
        break;
      case Role::contents: {
        std::string rel = join(prefix, child.name);
        Fd sub(::openat(dir_fd, child.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) {
          return fail(fmt::format("open directory \"{}\": {}", rel, errno_text(errno)));
        }
        bool marked = std::find(opaque_dirs.begin(), opaque_dirs.end(), child.name) != opaque_dirs.end();
        visited = walk(sub.get(), rel, marked ? Opaque::yes : Opaque::no);
        break;
      }
      case Role::device:
        visited = visit(Deletion{join(prefix, child.name), DeletionKind::path});
        break;
      case Role::whiteout:
        visited = visit(Deletion{join(prefix, child.name.substr(4)), DeletionKind::path});
        break;
      case Role::opaque:
        visited = visit(Deletion{prefix, DeletionKind::opaque});
        break;
      }
      if (!visited) {
        return visited;
      }
    }
    return {};
  }

  Result<void> visit_entry(int dir_fd, const std::string& prefix, const Child& child,
                           std::vector<std::string>& opaque_dirs)
  {
    const std::string& name = child.name;
    const struct stat& st = child.st;
    LayerEntry entry;
    entry.path = join(prefix, name);
    const std::string& rel = entry.path;
    entry.mode = st.st_mode & 07777;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    entry.mtime = st.st_mtim.tv_sec;
    entry.device = st.st_dev;
    entry.inode = st.st_ino;
    entry.nlink = static_cast<uint32_t>(st.st_nlink);
    auto attrs = xattrs(dir_fd, name, rel);
    if (!attrs) {
      return fail(attrs.error());
    }
    for (auto& attr : *attrs) {
      if (mode == WalkMode::overlay_upper && is_overlay_xattr(attr.first)) {
        if (S_ISDIR(st.st_mode) && attr.first.ends_with("overlay.opaque") && attr.second == "y") {
          opaque_dirs.push_back(name);
        }
        continue;
      }
      entry.xattrs.push_back(std::move(attr));
    }
    switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      entry.type = EntryType::regular;
      entry.size = static_cast<uint64_t>(st.st_size);
      entry.source_root = root;
      break;
    case S_IFDIR:
      entry.type = EntryType::directory;
      break;
    case S_IFLNK: {
      entry.type = EntryType::symlink;
      std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) {
        return fail(fmt::format("read link \"{}\": {}", rel, errno_text(errno)));
      }
      target.resize(static_cast<size_t>(n));
      entry.link_target = std::move(target);
      break;
    }
    case S_IFCHR:
    case S_IFBLK:
      entry.type = S_ISCHR(st.st_mode) ? EntryType::char_device : EntryType::block_device;
      entry.dev_major = major(st.st_rdev);
      entry.dev_minor = minor(st.st_rdev);
      break;
    case S_IFIFO:
      entry.type = EntryType::fifo;
      break;
    default:
      return {}; // sockets were left out while listing
    }
    return visit(std::move(entry));
  }
};

Result<void> walk_from(int dir_fd, WalkMode mode, const std::string& only, const LayerItemVisitor& visit)
{
  if (only.find('/') != std::string::npos) {
    return fail(fmt::format("walk directory: \"{}\" is not a name", only));
  }
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return fail(fmt::format("walk directory: {}", errno_text(errno)));
  }
  Walker walker{std::make_shared<const Fd>(copy), mode, visit, only};
  return walker.walk(walker.root->get(), "", Walker::Opaque::no);
}

} // namespace

Result<void> walk_tree_ordered(int dir_fd, WalkMode mode, const LayerItemVisitor& visit)
{
  return walk_from(dir_fd, mode, {}, visit);
}

Result<WalkResult> walk_tree(int dir_fd, WalkMode mode, const std::string& only)
{
  WalkResult result;
  auto walked = walk_from(dir_fd, mode, only, [&](LayerItem item) -> Result<void> {
    if (auto* entry = std::get_if<LayerEntry>(&item)) {
      result.entries.push_back(std::move(*entry));
    } else {
      result.deletions.push_back(std::get<Deletion>(std::move(item)));
    }
    return {};
  });
  if (!walked) {
    return fail(walked.error());
  }
  return result;
}

Result<WalkResult> walk_tree(const std::string& dir, WalkMode mode)
{
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("open directory \"{}\": {}", dir, errno_text(errno)));
  }
  auto result = walk_tree(fd.get(), mode);
  if (!result) {
    return fail(fmt::format("walk \"{}\": {}", dir, result.error()));
  }
  return result;
}

} // namespace kiln::oci
