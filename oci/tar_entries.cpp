#include "oci/tar_entries.hpp"

#include <cerrno>
#include <map>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "oci/archive.hpp"

namespace fs = std::filesystem;

namespace kiln::oci {

namespace {

std::string clean_name(std::string_view name)
{
  while (name.starts_with("./") || name.starts_with("/")) {
    name.remove_prefix(name.front() == '/' ? 1 : 2);
  }
  while (name.ends_with('/')) {
    name.remove_suffix(1);
  }
  return std::string(name);
}

} // namespace

Result<TarEntries> read_tar_entries(const fs::path& archive, const fs::path& spool_dir)
{
  std::unique_ptr<struct archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(reader.get());
  archive_read_support_format_gnutar(reader.get());
  archive_read_support_filter_all(reader.get());
  if (archive_read_open_filename(reader.get(), archive.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(fmt::format("open \"{}\": {}", archive.string(), archive_error_string(reader.get())));
  }
  TarEntries out;
  // A later member with the same name replaces the earlier one, as tar -x does.
  std::map<std::string, size_t> position;
  struct archive_entry* entry = nullptr;
  size_t spooled = 0;
  // Hardlink groups get inode numbers on a device no real file has.
  constexpr uint64_t k_synthetic_device = UINT64_MAX;
  uint64_t next_inode = 0;
  for (;;) {
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return fail(fmt::format("read \"{}\": {}", archive.string(), archive_error_string(reader.get())));
    }
    const char* raw = archive_entry_pathname(entry);
    std::string name = clean_name(raw != nullptr ? raw : "");
    if (name.empty()) {
      continue; // the root directory itself
    }
    if (!is_safe_relative_name(name)) {
      ++out.skipped;
      continue;
    }
    LayerEntry e;
    e.path = name;
    e.mode = archive_entry_perm(entry) & 07777;
    e.uid = static_cast<uint32_t>(archive_entry_uid(entry));
    e.gid = static_cast<uint32_t>(archive_entry_gid(entry));
    e.mtime = archive_entry_mtime(entry);
    archive_entry_xattr_reset(entry);
    const char* xname = nullptr;
    const void* xvalue = nullptr;
    size_t xsize = 0;
    while (archive_entry_xattr_next(entry, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
      e.xattrs.emplace_back(xname, std::string(static_cast<const char*>(xvalue), xsize));
    }
    if (const char* hardlink = archive_entry_hardlink(entry)) {
      // A tar names the first member it met as the link target, but the
      // layer writer sorts by path: give both members one synthetic inode
      // and let the writer choose which path carries the data.
      std::string target = clean_name(hardlink);
      auto found = position.find(target);
      if (!is_safe_relative_name(target) || found == position.end()
          || out.entries[found->second].type != EntryType::regular) {
        ++out.skipped;
        continue;
      }
      LayerEntry& first = out.entries[found->second];
      if (first.inode == 0) {
        first.device = k_synthetic_device;
        first.inode = ++next_inode;
      }
      ++first.nlink;
      std::string path = e.path;
      e = first;
      e.path = path;
      auto [it, inserted] = position.emplace(e.path, out.entries.size());
      if (inserted) {
        out.entries.push_back(std::move(e));
      } else {
        out.entries[it->second] = std::move(e);
      }
      continue;
    } else {
      switch (archive_entry_filetype(entry)) {
      case AE_IFDIR:
        e.type = EntryType::directory;
        break;
      case AE_IFLNK:
        e.type = EntryType::symlink;
        e.link_target = archive_entry_symlink(entry) != nullptr ? archive_entry_symlink(entry) : "";
        break;
      case AE_IFCHR:
        e.type = EntryType::char_device;
        break;
      case AE_IFBLK:
        e.type = EntryType::block_device;
        break;
      case AE_IFIFO:
        e.type = EntryType::fifo;
        break;
      case AE_IFREG:
        e.type = EntryType::regular;
        break;
      default:
        ++out.skipped;
        continue;
      }
      if (e.type == EntryType::char_device || e.type == EntryType::block_device) {
        e.dev_major = archive_entry_rdevmajor(entry);
        e.dev_minor = archive_entry_rdevminor(entry);
      }
    }
    if (e.type == EntryType::regular) {
      fs::path spool = spool_dir / std::to_string(spooled++);
      Fd fd(::open(spool.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!fd) {
        return fail(fmt::format("create \"{}\": {}", spool.string(), errno_text(errno)));
      }
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      uint64_t written = 0;
      for (;;) {
        r = archive_read_data_block(reader.get(), &block, &size, &offset);
        if (r == ARCHIVE_EOF) {
          break;
        }
        if (r != ARCHIVE_OK) {
          return fail(fmt::format("read \"{}\": member \"{}\": {}", archive.string(), name,
                                  archive_error_string(reader.get())));
        }
        // Sparse members arrive with holes: write them as zeros at their offset.
        if (::pwrite(fd.get(), block, size, offset) != static_cast<ssize_t>(size)) {
          return fail(fmt::format("write \"{}\": {}", spool.string(), errno_text(errno)));
        }
        written = std::max<uint64_t>(written, static_cast<uint64_t>(offset) + size);
      }
      uint64_t declared = static_cast<uint64_t>(archive_entry_size(entry));
      if (written < declared && ::ftruncate(fd.get(), static_cast<off_t>(declared)) != 0) {
        return fail(fmt::format("write \"{}\": {}", spool.string(), errno_text(errno)));
      }
      e.size = std::max(written, declared);
      e.open = [spool]() -> Result<Fd> {
        Fd in(::open(spool.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in) {
          return fail(fmt::format("open \"{}\": {}", spool.string(), errno_text(errno)));
        }
        return in;
      };
    }
    auto [it, inserted] = position.emplace(e.path, out.entries.size());
    if (inserted) {
      out.entries.push_back(std::move(e));
    } else {
      out.entries[it->second] = std::move(e);
    }
  }
  return out;
}

} // namespace kiln::oci
