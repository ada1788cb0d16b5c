#include "oci/archive.hpp"

#include <cerrno>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"

namespace fs = std::filesystem;

namespace kiln::oci {

namespace {

struct ArchiveReadDeleter
{
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteDeleter
{
  void operator()(struct archive* a) const { archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadDeleter>;
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteDeleter>;

std::string strip_dot_slash(std::string_view name)
{
  while (name.starts_with("./")) {
    name.remove_prefix(2);
  }
  while (name.ends_with('/')) {
    name.remove_suffix(1);
  }
  return std::string(name);
}

} // namespace

bool is_safe_relative_name(std::string_view name)
{
  if (name.empty() || name.front() == '/') {
    return false;
  }
  for (auto part : split(name, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
  }
  return true;
}

Result<void> extract_store_archive(const fs::path& archive, const fs::path& dir,
                                   const std::function<bool(std::string_view)>& allowed)
{
  ArchiveReader reader(archive_read_new());
  archive_read_support_format_tar(reader.get());
  archive_read_support_filter_all(reader.get());
  if (archive_read_open_filename(reader.get(), archive.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(fmt::format("open archive \"{}\": {}", archive.string(), archive_error_string(reader.get())));
  }
  struct archive_entry* entry = nullptr;
  // Symbolic links between members (docker save and skopeo write
  // <id>/layer.tar as a link to a shared file) become hard links once
  // everything is out, and only when they resolve to a member.
  std::vector<std::pair<std::string, std::string>> links;
  for (;;) {
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return fail(fmt::format("read archive \"{}\": {}", archive.string(), archive_error_string(reader.get())));
    }
    const char* raw_name = archive_entry_pathname(entry);
    std::string name = strip_dot_slash(raw_name != nullptr ? raw_name : "");
    if (name.empty()) {
      continue; // "./" itself
    }
    auto type = archive_entry_filetype(entry);
    if (!is_safe_relative_name(name)) {
      return fail(fmt::format("read archive \"{}\": unsafe member name \"{}\"", archive.string(), name));
    }
    if (type == AE_IFDIR) {
      std::error_code ec;
      fs::create_directories(dir / name, ec);
      continue;
    }
    if (type == AE_IFLNK && allowed(name)) {
      const char* target = archive_entry_symlink(entry);
      fs::path resolved = (fs::path(name).parent_path() / (target != nullptr ? target : "")).lexically_normal();
      if (target == nullptr || !is_safe_relative_name(resolved.string())) {
        return fail(fmt::format("read archive \"{}\": link \"{}\" points outside the archive", archive.string(),
                                name));
      }
      links.emplace_back(name, resolved.string());
      continue;
    }
    if (type != AE_IFREG) {
      return fail(fmt::format("read archive \"{}\": member \"{}\" is not a regular file or directory",
                              archive.string(), name));
    }
    if (!allowed(name)) {
      return fail(fmt::format("read archive \"{}\": unexpected member \"{}\"", archive.string(), name));
    }
    fs::path target = dir / name;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    // O_EXCL|O_NOFOLLOW: a name seen twice or a planted link is refused.
    Fd fd(::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) {
      return fail(fmt::format("read archive \"{}\": create \"{}\": {}", archive.string(), name, errno_text(errno)));
    }
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int64_t written = 0;
    for (;;) {
      r = archive_read_data_block(reader.get(), &block, &size, &offset);
      if (r == ARCHIVE_EOF) {
        break;
      }
      if (r != ARCHIVE_OK) {
        return fail(fmt::format("read archive \"{}\": member \"{}\": {}", archive.string(), name,
                                archive_error_string(reader.get())));
      }
      if (offset != written) {
        return fail(fmt::format("read archive \"{}\": member \"{}\" is sparse", archive.string(), name));
      }
      if (auto w = write_all(fd.get(), block, size); !w) {
        return fail(fmt::format("write \"{}\": {}", target.string(), w.error()));
      }
      written += static_cast<int64_t>(size);
    }
  }
  for (const auto& [name, target] : links) {
    struct stat st;
    fs::path from = dir / target;
    if (::lstat(from.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return fail(fmt::format("read archive \"{}\": link \"{}\" points to \"{}\", which is not a file in the archive",
                              archive.string(), name, target));
    }
    std::error_code ec;
    fs::create_directories((dir / name).parent_path(), ec);
    if (::link(from.c_str(), (dir / name).c_str()) != 0) {
      return fail(fmt::format("read archive \"{}\": link \"{}\": {}", archive.string(), name, errno_text(errno)));
    }
  }
  return {};
}

Result<void> write_store_archive(const fs::path& archive, const std::vector<ArchiveMember>& members, int64_t mtime)
{
  fs::path dir = archive.parent_path().empty() ? fs::path(".") : archive.parent_path();
  fs::path temp = dir / fmt::format(".{}.tmp-{}", archive.filename().string(), unique_suffix());
  Fd out(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out) {
    return fail(fmt::format("create \"{}\": {}", temp.string(), errno_text(errno)));
  }
  auto cleanup = [&](std::string message) {
    ::unlink(temp.c_str());
    return fail(std::move(message));
  };
  ArchiveWriter writer(archive_write_new());
  archive_write_set_format_pax_restricted(writer.get());
  archive_write_set_bytes_in_last_block(writer.get(), 1);
  if (archive_write_open_fd(writer.get(), out.get()) != ARCHIVE_OK) {
    return cleanup(fmt::format("write archive \"{}\": {}", archive.string(), archive_error_string(writer.get())));
  }
  std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                              archive_entry_free);
  std::vector<char> buffer(1 << 20);
  for (const auto& member : members) {
    Fd in(::open(member.source.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st;
    if (!in || ::fstat(in.get(), &st) != 0) {
      return cleanup(fmt::format("write archive \"{}\": open \"{}\": {}", archive.string(),
                                 member.source.string(), errno_text(errno)));
    }
    archive_entry_clear(entry.get());
    archive_entry_set_pathname(entry.get(), member.name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    archive_entry_set_size(entry.get(), st.st_size);
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), mtime, 0);
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
      return cleanup(fmt::format("write archive \"{}\": {}", archive.string(), archive_error_string(writer.get())));
    }
    for (;;) {
      ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return cleanup(fmt::format("read \"{}\": {}", member.source.string(), errno_text(errno)));
      }
      if (n == 0) {
        break;
      }
      if (archive_write_data(writer.get(), buffer.data(), static_cast<size_t>(n)) != n) {
        return cleanup(fmt::format("write archive \"{}\": {}", archive.string(), archive_error_string(writer.get())));
      }
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) {
    return cleanup(fmt::format("write archive \"{}\": {}", archive.string(), archive_error_string(writer.get())));
  }
  if (::fsync(out.get()) != 0) {
    return cleanup(fmt::format("fsync \"{}\": {}", temp.string(), errno_text(errno)));
  }
  out.reset();
  if (::rename(temp.c_str(), archive.c_str()) != 0) {
    return cleanup(fmt::format("rename \"{}\" to \"{}\": {}", temp.string(), archive.string(), errno_text(errno)));
  }
  return fsync_dir(dir);
}

Result<void> decompress_layer(const Layout& layout, const Descriptor& layer, const Digest& diff_id,
                              const fs::path& out_path)
{
  auto blob = layout.open_blob(layer.digest);
  if (!blob) {
    return fail(blob.error());
  }
  // The compressed bytes are hashed on their way into libarchive, the
  // decompressed ones on their way out: one read of the blob.
  struct Source
  {
    int fd;
    Hasher hasher;
    std::vector<char> buffer = std::vector<char>(1 << 16);
    std::string error;
  } source{blob->get(), Hasher(layer.digest.algorithm()), std::vector<char>(1 << 16), {}};
  auto read_callback = [](struct archive*, void* data, const void** out) -> la_ssize_t {
    auto* s = static_cast<Source*>(data);
    for (;;) {
      ssize_t n = ::read(s->fd, s->buffer.data(), s->buffer.size());
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        s->error = errno_text(errno);
        return -1;
      }
      s->hasher.update(s->buffer.data(), static_cast<size_t>(n));
      *out = s->buffer.data();
      return n;
    }
  };
  ArchiveReader reader(archive_read_new());
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  std::string what = fmt::format("layer {}", layer.digest.short_str());
  if (archive_read_open(reader.get(), &source, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
    return fail(fmt::format("read {}: {}", what, archive_error_string(reader.get())));
  }
  struct archive_entry* entry = nullptr;
  if (archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) {
    return fail(fmt::format("read {}: {}", what, archive_error_string(reader.get())));
  }
  Fd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out) {
    return fail(fmt::format("create \"{}\": {}", out_path.string(), errno_text(errno)));
  }
  Hasher uncompressed(diff_id.algorithm());
  std::vector<char> buffer(1 << 16);
  for (;;) {
    la_ssize_t n = archive_read_data(reader.get(), buffer.data(), buffer.size());
    if (n < 0) {
      return fail(fmt::format("decompress {}: {}", what,
                              source.error.empty() ? archive_error_string(reader.get()) : source.error));
    }
    if (n == 0) {
      break;
    }
    uncompressed.update(buffer.data(), static_cast<size_t>(n));
    if (auto w = write_all(out.get(), buffer.data(), static_cast<size_t>(n)); !w) {
      return fail(fmt::format("write \"{}\": {}", out_path.string(), w.error()));
    }
  }
  // Drain anything libarchive did not need so the blob digest covers it all.
  char rest[4096];
  for (ssize_t n; (n = ::read(source.fd, rest, sizeof(rest))) > 0;) {
    source.hasher.update(rest, static_cast<size_t>(n));
  }
  Digest blob_digest = source.hasher.finish();
  if (blob_digest != layer.digest || static_cast<int64_t>(source.hasher.bytes()) != layer.size) {
    return fail(fmt::format("read {}: digest mismatch (expected {}, got {})", what, layer.digest.str(),
                            blob_digest.str()));
  }
  Digest actual = uncompressed.finish();
  if (actual != diff_id) {
    return fail(fmt::format("read {}: diff_id mismatch (expected {}, got {})", what, diff_id.str(), actual.str()));
  }
  return {};
}

} // namespace kiln::oci
