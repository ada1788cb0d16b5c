#include "builder/upper.hpp"
#include "builder/rootpath.hpp"
#include "oci/tree_walk.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace kiln::builder {

namespace {

constexpr std::string_view k_whiteout_prefix = ".wh.";
constexpr std::string_view k_opaque_marker = ".wh..wh..opq";
// fuse-overlayfs also leaves a 0/0 device of this name in a directory it
// makes opaque.
constexpr std::string_view k_fuse_opaque_marker = ".wh..opq";

bool xattr_is(int fd, const char* name, std::string_view value)
{
  char buffer[8];
  ssize_t n = ::fgetxattr(fd, name, buffer, sizeof(buffer));
  return n >= 0 && std::string_view(buffer, static_cast<size_t>(n)) == value;
}

// Reads xattrs through an O_PATH fd via /proc/self/fd, since fgetxattr
// refuses O_PATH fds and a path-based lgetxattr would follow the hostile
// path again.
bool path_xattr_is(int fd, const char* name, std::string_view value)
{
  char buffer[8];
  std::string proc = fmt::format("/proc/self/fd/{}", fd);
  ssize_t n = ::getxattr(proc.c_str(), name, buffer, sizeof(buffer));
  return n >= 0 && std::string_view(buffer, static_cast<size_t>(n)) == value;
}

bool is_opaque_dir(int dir_fd)
{
  return xattr_is(dir_fd, "trusted.overlay.opaque", "y") || xattr_is(dir_fd, "user.overlay.opaque", "y") ||
         xattr_is(dir_fd, "user.fuseoverlayfs.opaque", "y");
}

class Walker
{
public:
  Walker(const IdMap& map, IdView view) : m_map(map), m_view(view) {}

  Result<void> walk(int dir_fd, const std::string& prefix)
  {
    auto listed = list_directory(dir_fd);
    if (!listed) {
      return fail(fmt::format("read directory \"{}\" of the upper dir: {}", prefix.empty() ? "/" : prefix,
                              listed.error()));
    }
    std::vector<std::string> names = std::move(*listed);
    for (const auto& name : names) {
      std::string path = prefix.empty() ? name : prefix + "/" + name;
      if (name == k_opaque_marker || name == k_fuse_opaque_marker) {
        m_changes.opaque.push_back(prefix);
        continue;
      }
      if (starts_with(name, k_whiteout_prefix)) {
        std::string target = name.substr(k_whiteout_prefix.size());
        m_changes.deleted.push_back(prefix.empty() ? target : prefix + "/" + target);
        continue;
      }
      struct stat st;
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return fail(fmt::format("stat \"{}\" in the upper dir: {}", path, errno_text(errno)));
      }
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        m_changes.deleted.push_back(path);
        continue;
      }
      if (S_ISREG(st.st_mode) && st.st_size == 0) {
        Fd fd(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (fd && (path_xattr_is(fd.get(), "trusted.overlay.whiteout", "y") ||
                   path_xattr_is(fd.get(), "user.overlay.whiteout", "y"))) {
          m_changes.deleted.push_back(path);
          continue;
        }
      }
      auto uid = translate(m_map.uids, st.st_uid);
      auto gid = translate(m_map.gids, st.st_gid);
      m_changes.changed.push_back({path, st.st_mode, uid, gid});
      if (S_ISDIR(st.st_mode)) {
        Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) {
          return fail(fmt::format("open \"{}\" in the upper dir: {}", path, errno_text(errno)));
        }
        if (is_opaque_dir(sub.get())) {
          m_changes.opaque.push_back(path);
        }
        if (auto ok = walk(sub.get(), path); !ok) {
          return ok;
        }
      }
    }
    return {};
  }

  UpperChanges take()
  {
    std::sort(m_changes.changed.begin(), m_changes.changed.end(),
              [](const ChangedEntry& a, const ChangedEntry& b) { return a.path < b.path; });
    std::sort(m_changes.deleted.begin(), m_changes.deleted.end());
    std::sort(m_changes.opaque.begin(), m_changes.opaque.end());
    m_changes.opaque.erase(std::unique(m_changes.opaque.begin(), m_changes.opaque.end()),
                           m_changes.opaque.end());
    return std::move(m_changes);
  }

private:
  uint32_t translate(const IdMapping& mapping, uint32_t id) const
  {
    if (m_view == IdView::container) {
      return id;
    }
    // An id outside the map cannot come from the sandbox; report it as the
    // overflow id the kernel shows for it inside.
    return mapping.to_container(id).value_or(65534);
  }

  const IdMap& m_map;
  IdView m_view;
  UpperChanges m_changes;
};

// Record format between the user-namespace helper and its parent, NUL-ended:
//   "C<mode> <uid> <gid> <path>" | "D<path>" | "O<path>"
std::string serialize(const UpperChanges& c)
{
  std::string out;
  for (const auto& e : c.changed) {
    out += fmt::format("C{} {} {} {}", static_cast<unsigned>(e.mode), e.uid, e.gid, e.path);
    out += '\0';
  }
  for (const auto& p : c.deleted) {
    out += "D" + p;
    out += '\0';
  }
  for (const auto& p : c.opaque) {
    out += "O" + p;
    out += '\0';
  }
  return out;
}

Result<UpperChanges> deserialize(std::string_view data)
{
  UpperChanges c;
  for (auto record : split(data, '\0')) {
    if (record.empty()) {
      continue;
    }
    std::string_view body = record.substr(1);
    if (record[0] == 'D') {
      c.deleted.emplace_back(body);
    } else if (record[0] == 'O') {
      c.opaque.emplace_back(body);
    } else if (record[0] == 'C') {
      auto fields = split(body, ' ');
      if (fields.size() < 4) {
        return fail("scan upper dir: malformed record from the user-namespace helper");
      }
      size_t offset = fields[0].size() + fields[1].size() + fields[2].size() + 3;
      c.changed.push_back({std::string(body.substr(offset)),
                           static_cast<mode_t>(parse_u64(fields[0]).value_or(0)),
                           static_cast<uint32_t>(parse_u64(fields[1]).value_or(0)),
                           static_cast<uint32_t>(parse_u64(fields[2]).value_or(0))});
    }
  }
  return c;
}

} // namespace

Result<UpperChanges> scan_upper_here(int upper_fd, const IdMap& map, IdView view)
{
  Walker walker(map, view);
  if (auto ok = walker.walk(upper_fd, ""); !ok) {
    return tl::unexpected(ok.error());
  }
  return walker.take();
}

Result<UpperChanges> scan_upper(const std::filesystem::path& upper, const IdMap& map)
{
  Fd fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("open upper dir \"{}\": {}", upper.string(), errno_text(errno)));
  }
  if (::geteuid() == 0 || map.single_id()) {
    return scan_upper_here(fd.get(), map, IdView::host);
  }
  // The helper writes its result to a memfd rather than a pipe, so a large
  // result cannot block it while the parent waits for it to exit.
  Fd out(::memfd_create("kiln-upper-scan", MFD_CLOEXEC));
  if (!out) {
    return fail(fmt::format("scan upper dir \"{}\": memfd_create: {}", upper.string(), errno_text(errno)));
  }
  std::string error;
  auto rc = run_in_user_namespace(map, [&]() {
    auto changes = scan_upper_here(fd.get(), map, IdView::container);
    std::string data = changes ? "K" + serialize(*changes) : "E" + changes.error();
    return write_all(out.get(), data.data(), data.size()) ? 0 : 1;
  });
  if (!rc) {
    return fail(fmt::format("scan upper dir \"{}\": {}", upper.string(), rc.error()));
  }
  std::string data;
  char buffer[65536];
  ssize_t n;
  while ((n = ::pread(out.get(), buffer, sizeof(buffer), static_cast<off_t>(data.size()))) > 0) {
    data.append(buffer, static_cast<size_t>(n));
  }
  if (*rc != 0 || data.empty()) {
    return fail(fmt::format("scan upper dir \"{}\": the user-namespace helper failed", upper.string()));
  }
  if (data[0] == 'E') {
    return fail(data.substr(1));
  }
  return deserialize(std::string_view(data).substr(1));
}

bool is_overlay_private_xattr(std::string_view name)
{
  return starts_with(name, "trusted.overlay.") || starts_with(name, "user.overlay.") ||
         starts_with(name, "user.fuseoverlayfs.");
}

oci::LayerItemSource upper_layer_items(int upper_fd, const std::vector<Fd>& lowers)
{
  return [upper_fd, &lowers](const oci::LayerItemVisitor& emit) {
    return oci::walk_tree_ordered(upper_fd, oci::WalkMode::overlay_upper, [&](oci::LayerItem item) {
      const auto* deletion = std::get_if<oci::Deletion>(&item);
      if (deletion != nullptr && !deletion->path.empty() && !look_up_in(lowers, deletion->path, false).exists) {
        return Result<void>();
      }
      return emit(std::move(item));
    });
  };
}

} // namespace kiln::builder
