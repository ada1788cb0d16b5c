#pragma once

// Content digests of build-context files, remembered by stat identity so
// that a rebuild reads only files whose stat changed (git's index does the
// same):
//
//   <cache>/context/<sha256(context path) hex, 32 chars>.json
//   {"version": 1, "files": {"src/app.py": [size, mtime_ns, ctime_ns, inode, device, hashed_at_ns, "sha256:…"]}}
//
// A digest is reused only when size, mtime, ctime, inode and device all
// match. ctime catches an edit whose mtime was set back (`touch -d`), since
// no user can set ctime. A record whose ctime lies within k_racy_ns of the
// moment it was hashed is "racy" (the file could change again within the
// same timestamp tick without its stat changing) and is hashed again next
// time. A file whose stat changes while it is read is read again.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <sys/stat.h>

#include "base/result.hpp"
#include "oci/digest.hpp"

namespace kiln::builder {

struct FileStat
{
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;

  bool operator==(const FileStat&) const = default;
};

class StatCache
{
public:
  // A coarse file-system timestamp tick, with room to spare (ext4 and tmpfs
  // stamp with the kernel's coarse clock, a few milliseconds; some file
  // systems use whole seconds).
  static constexpr int64_t k_racy_ns = 1'000'000'000;

  StatCache() = default;
  // The cache for the context directory `context` under cache_dir; a
  // missing or unreadable file gives an empty cache (it is only a cache).
  static StatCache load(const std::filesystem::path& cache_dir, const std::filesystem::path& context);

  // The SHA-256 of the regular file open as fd, named `path` relative to
  // the context ("" for a file outside it: hashed, never remembered).
  Result<oci::Digest> digest(const std::string& path, int fd);

  // Writes the cache back atomically if anything changed, without the
  // records of files that are no longer in the context (so the file does
  // not grow with every file a context ever had).
  Result<void> save() const;

  // Runs after each read of a file, before its stat is taken again: lets a
  // test change the file while it is being hashed.
  void set_read_hook(std::function<void()> hook) { m_read_hook = std::move(hook); }

  uint64_t files_seen() const { return m_seen; }
  uint64_t files_hashed() const { return m_hashed; }
  uint64_t bytes_hashed() const { return m_bytes; }
  const std::filesystem::path& file() const { return m_file; }

private:
  struct Record
  {
    FileStat stat;
    int64_t hashed_at_ns = 0;
    oci::Digest digest;
    bool used = false; // looked up or hashed by this build
  };

  std::filesystem::path m_file;
  std::filesystem::path m_context;
  std::map<std::string, Record> m_records;
  std::function<void()> m_read_hook;
  bool m_dirty = false;
  uint64_t m_seen = 0;
  uint64_t m_hashed = 0;
  uint64_t m_bytes = 0;
};

FileStat file_stat(const struct ::stat& st);

} // namespace kiln::builder
