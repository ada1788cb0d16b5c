#pragma once

// Test helper: reads a (compressed) tar stream back with libarchive, an
// independent implementation, so the writer's headers are checked by a
// reader that is not kiln's.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

struct ReadEntry
{
  std::string path;
  unsigned filetype = 0;
  unsigned mode = 0;
  int64_t uid = 0, gid = 0;
  std::string uname, gname;
  int64_t mtime = 0;
  bool atime_set = false, ctime_set = false;
  int64_t size = 0;
  std::string symlink, hardlink;
  unsigned rdevmajor = 0, rdevminor = 0;
  std::map<std::string, std::string> xattrs;
  std::string data;
};

inline std::vector<ReadEntry> read_tar(const std::string& bytes)
{
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  std::vector<ReadEntry> out;
  if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
    archive_read_free(a);
    throw std::runtime_error("cannot open tar");
  }
  archive_entry* e;
  int rc;
  while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    ReadEntry r;
    r.path = archive_entry_pathname(e);
    r.filetype = archive_entry_filetype(e);
    r.mode = archive_entry_perm(e);
    r.uid = archive_entry_uid(e);
    r.gid = archive_entry_gid(e);
    auto text = [](const char* value) { return std::string(value ? value : ""); };
    r.uname = text(archive_entry_uname(e));
    r.gname = text(archive_entry_gname(e));
    r.mtime = archive_entry_mtime(e);
    r.atime_set = archive_entry_atime_is_set(e);
    r.ctime_set = archive_entry_ctime_is_set(e);
    r.size = archive_entry_size(e);
    r.symlink = text(archive_entry_symlink(e));
    r.hardlink = text(archive_entry_hardlink(e));
    r.rdevmajor = archive_entry_rdevmajor(e);
    r.rdevminor = archive_entry_rdevminor(e);
    archive_entry_xattr_reset(e);
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      r.xattrs[name] = std::string(static_cast<const char*>(value), size);
    }
    char buffer[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof(buffer))) > 0) {
      r.data.append(buffer, static_cast<size_t>(n));
    }
    out.push_back(std::move(r));
  }
  bool ok = rc == ARCHIVE_EOF;
  archive_read_free(a);
  if (!ok) {
    throw std::runtime_error("tar stream is damaged");
  }
  return out;
}
