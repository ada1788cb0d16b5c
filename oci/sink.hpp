#pragma once

// Where streamed bytes go: a blob being written into the content store, a
// file, a hash, or a test buffer. Layer writers and archive writers produce
// into a Sink so that nothing needs a full copy of a blob in memory.

#include <cstddef>
#include <string>

#include "base/fileio.hpp"
#include "base/result.hpp"

namespace kiln::oci {

class Sink
{
public:
  virtual ~Sink() = default;
  virtual Result<void> write(const void* data, size_t size) = 0;
};

// Streams everything readable from fd into sink, in 1 MiB pieces.
Result<uint64_t> pump(int fd, Sink& sink);

// Writes to a file descriptor it does not own.
class FdSink : public Sink
{
public:
  explicit FdSink(int fd) : m_fd(fd) {}
  Result<void> write(const void* data, size_t size) override { return write_all(m_fd, data, size); }

private:
  int m_fd;
};

// Collects bytes in memory (tests and small blobs only).
class StringSink : public Sink
{
public:
  Result<void> write(const void* data, size_t size) override
  {
    m_data.append(static_cast<const char*>(data), size);
    return {};
  }
  const std::string& data() const { return m_data; }

private:
  std::string m_data;
};

} // namespace kiln::oci
