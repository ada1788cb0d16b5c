#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace kiln {

// An owned file descriptor.
class Fd
{
public:
  Fd() = default;
  explicit Fd(int fd) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd();

  int get() const { return m_fd; }
  explicit operator bool() const { return m_fd >= 0; }
  int release();
  void reset(int fd = -1);

private:
  int m_fd = -1;
};

enum class Durable { yes, no };

// Reads a whole file. The error names the path and the cause.
Result<std::string> read_file(const std::filesystem::path& path);

// Writes data to a temporary file beside path, fsyncs it (Durable::yes),
// then renames it over path, so readers see the old or the new content and
// never a torn one.
Result<void> write_file_atomic(const std::filesystem::path& path,
                               std::string_view data,
                               Durable durable = Durable::yes,
                               unsigned mode = 0644);

// Writes all of data to fd, retrying on EINTR and short writes.
Result<void> write_all(int fd, const void* data, size_t size);

// The names in an open directory, without "." and "..", in readdir order.
// Lists through a fresh open file description of dir_fd: a dup would share,
// and start at, the offset an earlier listing left at the end.
Result<std::vector<std::string>> list_directory(int dir_fd);

// fsync on a directory so that a rename inside it is durable.
Result<void> fsync_dir(const std::filesystem::path& dir);

// A name for a temporary file that no other process or thread will pick.
std::string unique_suffix();

// A temporary directory removed (recursively) when the object dies.
class TempDir
{
public:
  explicit TempDir(const std::filesystem::path& parent, std::string_view prefix = "kiln-");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return m_path; }
  // Keeps the directory: the caller has renamed it or taken ownership.
  void release() { m_path.clear(); }

private:
  std::filesystem::path m_path;
};

// An exclusive advisory lock (flock) on a lock file, held until destruction.
enum class LockMode { exclusive, shared };

class FileLock
{
public:
  // Waits for the flock() on lock_path (created if missing).
  static Result<FileLock> acquire(const std::filesystem::path& lock_path, LockMode mode = LockMode::exclusive);
  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;

private:
  FileLock() = default;
  Fd m_fd;
};

} // namespace kiln
