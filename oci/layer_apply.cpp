#include "oci/layer_apply.hpp"

#include <cerrno>
#include <cstring>
#include <thread>
#include <unordered_set>

#include <archive.h>
#include <archive_entry.h>
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
#include "base/strings.hpp"
#include "oci/bounded_queue.hpp"

namespace kiln::oci {

namespace {

constexpr std::string_view k_whiteout_prefix = ".wh.";
constexpr std::string_view k_opaque = ".wh..wh..opq";

std::string proc_path(int fd, std::string_view name = {})
{
  return name.empty() ? fmt::format("/proc/self/fd/{}", fd) : fmt::format("/proc/self/fd/{}/{}", fd, name);
}

// openat2 beneath root, treating root as "/" for every symlink and "..".
int open_in_root(int root_fd, const std::string& rel, uint64_t flags)
{
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, root_fd, rel.empty() ? "." : rel.c_str(), &how, sizeof(how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return static_cast<int>(fd);
}

std::pair<std::string, std::string> split_parent(const std::string& path)
{
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {"", path};
  }
  return {path.substr(0, slash), path.substr(slash + 1)};
}

EntryType entry_type(archive_entry* e)
{
  if (archive_entry_hardlink(e) != nullptr) {
    return EntryType::hardlink;
  }
  switch (archive_entry_filetype(e)) {
  case AE_IFDIR: return EntryType::directory;
  case AE_IFLNK: return EntryType::symlink;
  case AE_IFCHR: return EntryType::char_device;
  case AE_IFBLK: return EntryType::block_device;
  case AE_IFIFO: return EntryType::fifo;
  default: return EntryType::regular;
  }
}

// Decompression and the blob digest run on one thread, a few chunks ahead
// of the thread that parses the tar and writes files; the diff_id's hash
// runs on a third, fed the same chunks, so no stage of the pipeline does
// more than about half of the CPU work.
using SharedChunk = std::shared_ptr<const Chunk>;

class Prefetch
{
public:
  explicit Prefetch(LayerReader& reader) : m_reader(reader), m_queue(4), m_hash_queue(4)
  {
    m_reader.hash_output_elsewhere();
    m_hash_thread = std::thread([this] { hash(); });
    m_thread = std::thread([this] { run(); });
  }
  ~Prefetch()
  {
    m_queue.close();
    m_hash_queue.close();
    for (auto* thread : {&m_thread, &m_hash_thread}) {
      if (thread->joinable()) {
        thread->join();
      }
    }
  }

  // The next piece of the uncompressed stream; empty at its end or on error.
  std::optional<SharedChunk> next() { return m_queue.pop(); }
  // Set once next() came back empty because the stream failed.
  const std::string& error() const { return m_error; }

  // Reads the stream to its end, then checks the diff_id hashed on the side.
  Result<void> drain()
  {
    while (next()) {
    }
    if (!m_error.empty()) {
      return fail(m_error);
    }
    m_thread.join();
    m_hash_thread.join();
    return m_reader.check_diff_id(m_diff_hasher.finish());
  }

private:
  void run()
  {
    for (;;) {
      Chunk chunk(k_chunk_size);
      auto n = m_reader.read(chunk.data(), chunk.size());
      if (!n) {
        m_error = n.error();
      }
      if (!n || *n == 0) {
        m_hash_queue.finish();
        m_queue.finish();
        return;
      }
      chunk.resize(*n);
      auto shared = std::make_shared<const Chunk>(std::move(chunk));
      if (!m_hash_queue.push(shared) || !m_queue.push(std::move(shared))) {
        return;
      }
    }
  }

  void hash()
  {
    while (auto chunk = m_hash_queue.pop()) {
      m_diff_hasher.update((*chunk)->data(), (*chunk)->size());
    }
  }

  LayerReader& m_reader;
  BoundedQueue<SharedChunk> m_queue;
  BoundedQueue<SharedChunk> m_hash_queue;
  Hasher m_diff_hasher;
  std::string m_error;
  std::thread m_thread;
  std::thread m_hash_thread;
};

struct ReadContext
{
  Prefetch* prefetch = nullptr;
  SharedChunk current;
  std::string error;
};

la_ssize_t read_callback(archive* a, void* data, const void** buffer)
{
  auto* ctx = static_cast<ReadContext*>(data);
  auto chunk = ctx->prefetch->next();
  if (!chunk) {
    if (!ctx->prefetch->error().empty()) {
      ctx->error = ctx->prefetch->error();
      archive_set_error(a, EIO, "%s", ctx->error.c_str());
      return -1;
    }
    return 0;
  }
  ctx->current = std::move(*chunk);
  *buffer = ctx->current->data();
  return static_cast<la_ssize_t>(ctx->current->size());
}

class Applier
{
public:
  Applier(int root_fd, const ApplyOptions& options) : m_root(root_fd), m_options(options)
  {
    m_privileged = ::geteuid() == 0;
    m_uid = ::geteuid();
    m_gid = ::getegid();
  }

  Result<void> apply(archive* a, archive_entry* e)
  {
    const char* raw = archive_entry_pathname(e);
    if (raw == nullptr) {
      return fail("tar entry without a usable name");
    }
    std::string path = clean_member_path(raw);
    if (path.empty()) {
      return {}; // the root itself keeps the target's metadata
    }
    auto [parent, base] = split_parent(path);
    if (base == k_opaque) {
      return opaque(parent);
    }
    if (base.starts_with(k_whiteout_prefix)) {
      return whiteout(parent, base.substr(k_whiteout_prefix.size()));
    }
    auto dir = parent_dir(parent);
    if (!dir) {
      return fail(fmt::format("{}: {}", path, dir.error()));
    }
    auto applied = create(a, e, path, dir->get(), base);
    if (!applied) {
      return fail(fmt::format("{}: {}", path, applied.error()));
    }
    mark_in_layer(path);
    return {};
  }

  // Applies deferred directory modes and times, children before parents,
  // and gives back the write bits borrowed from lower directories.
  Result<void> finish()
  {
    for (auto it = m_dirs.rbegin(); it != m_dirs.rend(); ++it) {
      Fd fd(open_in_root(m_root, it->path, O_PATH | O_DIRECTORY | O_NOFOLLOW));
      if (!fd) {
        continue; // replaced by a later entry of this layer
      }
      std::string proc = proc_path(fd.get());
      if (::chmod(proc.c_str(), it->mode) != 0) {
        return fail(fmt::format("{}: chmod: {}", it->path, errno_text(errno)));
      }
      timespec times[2] = {{0, UTIME_OMIT}, {it->mtime, 0}};
      ::utimensat(AT_FDCWD, proc.c_str(), times, 0);
    }
    for (const auto& [path, mode] : m_borrowed) {
      Fd fd(open_in_root(m_root, path, O_PATH | O_DIRECTORY | O_NOFOLLOW));
      if (fd && m_layer_paths.count(path) == 0) {
        ::chmod(proc_path(fd.get()).c_str(), mode);
      }
    }
    return {};
  }

  std::vector<OwnershipRecord> take_unapplied() { return std::move(m_unapplied); }

private:
  struct DirFix
  {
    std::string path;
    mode_t mode;
    int64_t mtime;
  };

  // The parent directory, creating missing ones (0755) on the way.
  Result<Fd> parent_dir(const std::string& parent)
  {
    if (parent == m_cached_parent && m_cached_fd) {
      return Fd(::fcntl(m_cached_fd.get(), F_DUPFD_CLOEXEC, 0));
    }
    Fd fd(open_in_root(m_root, parent, O_PATH | O_DIRECTORY));
    if (!fd && errno == ENOENT) {
      auto made = make_parents(parent);
      if (!made) {
        return made;
      }
      fd = std::move(*made);
    } else if (!fd) {
      return fail(fmt::format("open parent \"{}\": {}", parent, errno_text(errno)));
    }
    borrow_write(fd.get(), parent);
    m_cached_parent = parent;
    m_cached_fd = Fd(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
    return fd;
  }

  Result<Fd> make_parents(const std::string& parent)
  {
    Fd dir(open_in_root(m_root, "", O_PATH | O_DIRECTORY));
    std::string sofar;
    for (auto part : split(parent, '/')) {
      std::string name(part);
      sofar = sofar.empty() ? name : sofar + "/" + name;
      Fd next(open_in_root(m_root, sofar, O_PATH | O_DIRECTORY));
      if (!next && errno == ENOENT) {
        borrow_write(dir.get(), sofar);
        if (::mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
          return fail(fmt::format("create directory \"{}\": {}", sofar, errno_text(errno)));
        }
        next.reset(open_in_root(m_root, sofar, O_PATH | O_DIRECTORY));
      }
      if (!next) {
        return fail(fmt::format("open parent \"{}\": {}", sofar, errno_text(errno)));
      }
      dir = std::move(next);
    }
    return dir;
  }

  // Without privilege, a read-only directory from a lower layer would stop
  // this layer from writing into it: open it up for the layer's duration.
  void borrow_write(int dir_fd, const std::string& path)
  {
    if (m_privileged) {
      return;
    }
    struct stat st;
    if (::fstat(dir_fd, &st) != 0 || st.st_uid != m_uid || (st.st_mode & 0700) == 0700) {
      return;
    }
    if (::chmod(proc_path(dir_fd).c_str(), (st.st_mode & 07777) | 0700) == 0) {
      m_borrowed.emplace_back(path, st.st_mode & 07777);
    }
  }

  // This layer's paths and their ancestors: an opaque marker keeps them.
  void mark_in_layer(std::string path)
  {
    while (!path.empty() && m_layer_paths.insert(path).second) {
      size_t slash = path.rfind('/');
      path.resize(slash == std::string::npos ? 0 : slash);
    }
  }

  void invalidate_cache(const std::string& path)
  {
    if (m_cached_parent == path || m_cached_parent.starts_with(path + "/") || path.empty()) {
      m_cached_fd.reset();
      m_cached_parent.clear();
    }
  }

  Result<void> remove_tree(int dir_fd, const std::string& name, const std::string& path)
  {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errno == ENOENT ? Result<void>() : fail(fmt::format("stat \"{}\": {}", path, errno_text(errno)));
    }
    invalidate_cache(path);
    if (!S_ISDIR(st.st_mode)) {
      if (::unlinkat(dir_fd, name.c_str(), 0) != 0) {
        return fail(fmt::format("remove \"{}\": {}", path, errno_text(errno)));
      }
      return {};
    }
    Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub && errno == EACCES && !m_privileged) {
      ::fchmodat(dir_fd, name.c_str(), 0700, 0);
      sub.reset(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    }
    if (!sub) {
      return fail(fmt::format("open \"{}\": {}", path, errno_text(errno)));
    }
    if (!m_privileged) {
      ::fchmod(sub.get(), (st.st_mode & 07777) | 0700);
    }
    for (const auto& child : list_dir(sub.get())) {
      auto removed = remove_tree(sub.get(), child, path + "/" + child);
      if (!removed) {
        return removed;
      }
    }
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) {
      return fail(fmt::format("remove \"{}\": {}", path, errno_text(errno)));
    }
    return {};
  }

  static std::vector<std::string> list_dir(int dir_fd)
  {
    return list_directory(dir_fd).value_or(std::vector<std::string>{});
  }

  Result<void> whiteout(const std::string& parent, const std::string& name)
  {
    std::string target = clean_member_path(parent.empty() ? name : parent + "/" + name);
    if (target.empty() || name.empty()) {
      return {}; // ".wh." alone, or one that cleans to the root: nothing to delete
    }
    auto [tparent, tname] = split_parent(target);
    Fd dir(open_in_root(m_root, tparent, O_PATH | O_DIRECTORY));
    if (!dir) {
      return {}; // nothing below to delete
    }
    borrow_write(dir.get(), tparent);
    Fd writable(::openat(dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return remove_tree(writable ? writable.get() : dir.get(), tname, target);
  }

  Result<void> opaque(const std::string& dir_path)
  {
    auto dir = parent_dir(dir_path);
    if (!dir) {
      return fail(fmt::format("{}: {}", dir_path, dir.error()));
    }
    Fd readable(::openat(dir->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!readable) {
      return fail(fmt::format("open \"{}\": {}", dir_path, errno_text(errno)));
    }
    for (const auto& child : list_dir(readable.get())) {
      std::string path = dir_path.empty() ? child : dir_path + "/" + child;
      if (m_layer_paths.count(path) != 0) {
        continue; // this layer's own content stays
      }
      auto removed = remove_tree(readable.get(), child, path);
      if (!removed) {
        return removed;
      }
    }
    return {};
  }

  // Clears the way for a new entry: whatever is there (a symlink above all)
  // is removed, never written through; an existing directory is kept for a
  // directory entry.
  Result<bool> clear(int dir_fd, const std::string& name, const std::string& path, EntryType type)
  {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return false;
    }
    if (type == EntryType::directory && S_ISDIR(st.st_mode)) {
      return true;
    }
    auto removed = remove_tree(dir_fd, name, path);
    if (!removed) {
      return fail(removed.error());
    }
    return false;
  }

  // Runs make, a call that fails with EEXIST when something is at name;
  // then clears the way and runs it again, unless what is there is a
  // directory kept for a directory entry (0). Its result, errno set when < 0.
  template <typename Make>
  Result<int> make_clearing(int dir_fd, const std::string& name, const std::string& path, EntryType type, Make make)
  {
    int rc = make();
    if (rc < 0 && errno == EEXIST) {
      auto kept = clear(dir_fd, name, path, type);
      if (!kept) {
        return fail(kept.error());
      }
      rc = *kept ? 0 : make();
    }
    return rc;
  }

  void record(const std::string& path, archive_entry* e, EntryType type, bool skipped,
              std::vector<std::pair<std::string, std::string>> xattrs)
  {
    OwnershipRecord r;
    r.path = path;
    r.type = type;
    r.uid = static_cast<uint32_t>(archive_entry_uid(e));
    r.gid = static_cast<uint32_t>(archive_entry_gid(e));
    r.mode = archive_entry_perm(e);
    r.dev_major = archive_entry_rdevmajor(e);
    r.dev_minor = archive_entry_rdevminor(e);
    r.skipped = skipped;
    r.xattrs = std::move(xattrs);
    m_unapplied.push_back(std::move(r));
  }

  // Sets owner and xattrs on the entry at dir_fd/name (fd when it is open);
  // what cannot be set is recorded.
  void set_owner_and_xattrs(int fd, int dir_fd, const std::string& name, const std::string& path,
                            archive_entry* e, EntryType type)
  {
    auto uid = static_cast<uid_t>(archive_entry_uid(e));
    auto gid = static_cast<gid_t>(archive_entry_gid(e));
    bool owner_lost = false;
    if (m_privileged) {
      int rc = fd >= 0 ? ::fchown(fd, uid, gid) : ::fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
      owner_lost = rc != 0;
    } else {
      owner_lost = uid != m_uid || gid != m_gid;
    }
    std::vector<std::pair<std::string, std::string>> lost_xattrs;
    archive_entry_xattr_reset(e);
    const char* key;
    const void* value;
    size_t size;
    std::string proc = proc_path(dir_fd, name);
    while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
      int rc = fd >= 0 ? ::fsetxattr(fd, key, value, size, 0) : ::lsetxattr(proc.c_str(), key, value, size, 0);
      if (rc != 0) {
        lost_xattrs.emplace_back(key, std::string(static_cast<const char*>(value), size));
      }
    }
    if (owner_lost || !lost_xattrs.empty()) {
      record(path, e, type, false, std::move(lost_xattrs));
    }
  }

  Result<void> write_data(archive* a, int fd, int64_t size)
  {
    const void* block;
    size_t length;
    la_int64_t offset;
    int64_t end = 0;
    int rc;
    while ((rc = archive_read_data_block(a, &block, &length, &offset)) == ARCHIVE_OK) {
      end = offset + static_cast<int64_t>(length);
      const char* p = static_cast<const char*>(block);
      while (length > 0) {
        ssize_t n = ::pwrite(fd, p, length, offset);
        if (n < 0) {
          if (errno == EINTR) {
            continue;
          }
          return fail(fmt::format("write: {}", errno_text(errno)));
        }
        p += n;
        length -= static_cast<size_t>(n);
        offset += n;
      }
    }
    if (rc != ARCHIVE_EOF) {
      return fail(fmt::format("read content: {}", archive_error_string(a)));
    }
    // A sparse member may end in a hole: give the file its full size (only
    // then: a truncate costs an inode update per file).
    if (end != size && ::ftruncate(fd, size) != 0) {
      return fail(fmt::format("truncate: {}", errno_text(errno)));
    }
    return {};
  }

  Result<void> create(archive* a, archive_entry* e, const std::string& path, int dir_fd, const std::string& name)
  {
    EntryType type = entry_type(e);
    mode_t mode = archive_entry_perm(e);
    timespec times[2] = {{0, UTIME_OMIT}, {archive_entry_mtime(e), 0}};
    // Directories, files and symlinks (nearly every entry) are created
    // first and the way cleared only when something is there; the rest
    // clear it first.
    if (type != EntryType::directory && type != EntryType::regular && type != EntryType::symlink) {
      if (auto cleared = clear(dir_fd, name, path, type); !cleared) {
        return fail(cleared.error());
      }
    }
    switch (type) {
    case EntryType::directory: {
      auto made = make_clearing(dir_fd, name, path, type, [&] { return ::mkdirat(dir_fd, name.c_str(), 0700); });
      if (!made) {
        return fail(made.error());
      }
      if (*made != 0) {
        return fail(fmt::format("mkdir: {}", errno_text(errno)));
      }
      Fd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) {
        return fail(fmt::format("open: {}", errno_text(errno)));
      }
      if (!m_privileged) {
        ::fchmod(fd.get(), mode | 0700);
      }
      set_owner_and_xattrs(fd.get(), dir_fd, name, path, e, type);
      m_dirs.push_back({path, mode, archive_entry_mtime(e)});
      invalidate_cache(path);
      return {};
    }
    case EntryType::regular: {
      auto made = make_clearing(dir_fd, name, path, type, [&] {
        return ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      });
      if (!made) {
        return fail(made.error());
      }
      Fd fd(*made);
      if (!fd) {
        return fail(fmt::format("create: {}", errno_text(errno)));
      }
      auto written = write_data(a, fd.get(), archive_entry_size(e));
      if (!written) {
        return written;
      }
      set_owner_and_xattrs(fd.get(), dir_fd, name, path, e, type);
      // After chown, which clears setuid and setgid.
      if (::fchmod(fd.get(), mode) != 0) {
        return fail(fmt::format("chmod: {}", errno_text(errno)));
      }
      ::futimens(fd.get(), times);
      return {};
    }
    case EntryType::symlink: {
      const char* target = archive_entry_symlink(e);
      auto made = make_clearing(dir_fd, name, path, type,
                                [&] { return ::symlinkat(target ? target : "", dir_fd, name.c_str()); });
      if (!made) {
        return fail(made.error());
      }
      if (*made != 0) {
        return fail(fmt::format("symlink: {}", errno_text(errno)));
      }
      set_owner_and_xattrs(-1, dir_fd, name, path, e, type);
      ::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return {};
    }
    case EntryType::hardlink: {
      std::string target = clean_member_path(archive_entry_hardlink(e));
      auto [tparent, tname] = split_parent(target);
      Fd tdir(open_in_root(m_root, tparent, O_PATH | O_DIRECTORY));
      if (target.empty() || !tdir) {
        return fail(fmt::format("hardlink target \"{}\" does not exist in the layer", target));
      }
      if (::linkat(tdir.get(), tname.c_str(), dir_fd, name.c_str(), 0) != 0) {
        return fail(fmt::format("hardlink to \"{}\": {}", target, errno_text(errno)));
      }
      return {};
    }
    case EntryType::char_device:
    case EntryType::block_device:
    case EntryType::fifo: {
      mode_t kind = type == EntryType::fifo ? S_IFIFO : type == EntryType::char_device ? S_IFCHR : S_IFBLK;
      dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
      if (::mknodat(dir_fd, name.c_str(), kind | mode, type == EntryType::fifo ? 0 : dev) != 0) {
        if (type != EntryType::fifo && (errno == EPERM || errno == EACCES)) {
          if (m_options.warn) {
            m_options.warn(fmt::format("skipping device node \"{}\" ({}:{}): {}", path, archive_entry_rdevmajor(e),
                                       archive_entry_rdevminor(e), errno_text(errno)));
          }
          record(path, e, type, true, {});
          return {};
        }
        return fail(fmt::format("mknod: {}", errno_text(errno)));
      }
      set_owner_and_xattrs(-1, dir_fd, name, path, e, type);
      ::fchmodat(dir_fd, name.c_str(), mode, 0);
      ::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
      return {};
    }
    }
    return {};
  }

  int m_root;
  const ApplyOptions& m_options;
  bool m_privileged = false;
  uid_t m_uid = 0;
  gid_t m_gid = 0;
  std::unordered_set<std::string> m_layer_paths;
  std::vector<DirFix> m_dirs;
  std::vector<std::pair<std::string, mode_t>> m_borrowed;
  std::vector<OwnershipRecord> m_unapplied;
  std::string m_cached_parent;
  Fd m_cached_fd;
};

} // namespace

std::string clean_member_path(std::string_view name)
{
  std::vector<std::string_view> parts;
  for (auto part : split(name, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto part : parts) {
    if (!out.empty()) {
      out += '/';
    }
    out += part;
  }
  return out;
}

Result<ApplyResult> apply_layer(int root_fd, Fd blob, const std::string& name, const ApplyOptions& options)
{
  LayerReader reader(std::move(blob), name, options.expected);
  Prefetch prefetch(reader);
  ReadContext ctx;
  ctx.prefetch = &prefetch;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  std::unique_ptr<archive, decltype(&archive_read_free)> guard(a, archive_read_free);
  auto archive_error = [&](std::string_view what) {
    return fail(ctx.error.empty() ? fmt::format("read layer {}: {}: {}", name, what, archive_error_string(a))
                                  : ctx.error);
  };
  if (archive_read_open(a, &ctx, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
    return archive_error("not a tar stream");
  }
  Applier applier(root_fd, options);
  ApplyResult result;
  archive_entry* e;
  for (;;) {
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) {
      break;
    }
    if (rc < ARCHIVE_WARN) {
      return archive_error("bad tar header");
    }
    auto applied = applier.apply(a, e);
    if (!applied) {
      return fail(ctx.error.empty() ? fmt::format("apply layer {}: {}", name, applied.error()) : ctx.error);
    }
    ++result.entries;
  }
  auto drained = prefetch.drain();
  if (!drained) {
    return fail(drained.error());
  }
  auto finished = applier.finish();
  if (!finished) {
    return fail(fmt::format("apply layer {}: {}", name, finished.error()));
  }
  result.diff_id = *reader.diff_id();
  result.blob_digest = *reader.blob_digest();
  result.compression = reader.compression();
  result.unapplied = applier.take_unapplied();
  return result;
}

Result<ApplyResult> apply_layer(const std::filesystem::path& root, const std::filesystem::path& blob,
                                const ApplyOptions& options)
{
  Fd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) {
    return fail(fmt::format("open directory \"{}\": {}", root.string(), errno_text(errno)));
  }
  Fd blob_fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!blob_fd) {
    return fail(fmt::format("open layer \"{}\": {}", blob.string(), errno_text(errno)));
  }
  return apply_layer(root_fd.get(), std::move(blob_fd), blob.string(), options);
}

} // namespace kiln::oci
