#include "base/fileio.hpp"

#include <atomic>
#include <cerrno>
#include <random>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"

namespace fs = std::filesystem;

namespace kiln {

Fd& Fd::operator=(Fd&& other) noexcept
{
  if (this != &other) {
    reset(other.release());
  }
  return *this;
}

Fd::~Fd()
{
  reset();
}

int Fd::release()
{
  int fd = m_fd;
  m_fd = -1;
  return fd;
}

void Fd::reset(int fd)
{
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  m_fd = fd;
}

Result<std::string> read_file(const fs::path& path)
{
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("open \"{}\": {}", path.string(), errno_text(errno)));
  }
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(fmt::format("read \"{}\": {}", path.string(), errno_text(errno)));
    }
    if (n == 0) {
      break;
    }
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}

Result<void> write_all(int fd, const void* data, size_t size)
{
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(errno_text(errno));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Result<std::vector<std::string>> list_directory(int dir_fd)
{
  int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR* dir = copy < 0 ? nullptr : ::fdopendir(copy);
  if (dir == nullptr) {
    int err = errno;
    if (copy >= 0) {
      ::close(copy);
    }
    return fail(errno_text(err));
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      names.emplace_back(name);
    }
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) {
    return fail(errno_text(err));
  }
  return names;
}

Result<void> fsync_dir(const fs::path& dir)
{
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0) {
    return fail(fmt::format("fsync \"{}\": {}", dir.string(), errno_text(errno)));
  }
  return {};
}

std::string unique_suffix()
{
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}.{}.{:x}", ::getpid(), counter++, rng() & 0xffffffffu);
}

Result<void> write_file_atomic(const fs::path& path, std::string_view data, Durable durable, unsigned mode)
{
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  fs::path tmp = dir / fmt::format(".{}.tmp-{}", path.filename().string(), unique_suffix());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) {
    return fail(fmt::format("create \"{}\": {}", tmp.string(), errno_text(errno)));
  }
  auto written = write_all(fd.get(), data.data(), data.size());
  if (written && durable == Durable::yes && ::fsync(fd.get()) != 0) {
    written = fail(errno_text(errno));
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return fail(fmt::format("write \"{}\": {}", path.string(), written.error()));
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(fmt::format("rename \"{}\" to \"{}\": {}", tmp.string(), path.string(), errno_text(err)));
  }
  if (durable == Durable::yes) {
    return fsync_dir(dir);
  }
  return {};
}

TempDir::TempDir(const fs::path& parent, std::string_view prefix)
{
  std::error_code ec;
  fs::create_directories(parent, ec);
  std::string pattern = (parent / fmt::format("{}XXXXXX", prefix)).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Fatal(fmt::format("create temporary directory in \"{}\": {}", parent.string(), errno_text(errno)));
  }
  m_path = pattern;
}

TempDir::~TempDir()
{
  if (!m_path.empty()) {
    std::error_code ec;
    // Directories without write permission (a layer's 0555 dirs) would stop
    // remove_all; give the owner write access back first.
    for (auto it = fs::recursive_directory_iterator(m_path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        ::chmod(it->path().c_str(), 0700);
      }
    }
    ::chmod(m_path.c_str(), 0700);
    fs::remove_all(m_path, ec);
  }
}

Result<FileLock> FileLock::acquire(const fs::path& lock_path, LockMode mode)
{
  FileLock lock;
  lock.m_fd.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.m_fd) {
    return fail(fmt::format("open lock \"{}\": {}", lock_path.string(), errno_text(errno)));
  }
  while (::flock(lock.m_fd.get(), mode == LockMode::shared ? LOCK_SH : LOCK_EX) != 0) {
    if (errno != EINTR) {
      return fail(fmt::format("lock \"{}\": {}", lock_path.string(), errno_text(errno)));
    }
  }
  return lock;
}

} // namespace kiln
