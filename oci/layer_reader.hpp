#pragma once

// Reads a layer blob as its uncompressed tar stream, checking both digests
// on the way: the blob digest over the bytes as stored and the diff_id over
// the bytes after decompression. Compression is recognised by magic number
// (gzip, zstd, or none), so a mislabelled media type cannot mislead it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/fileio.hpp"
#include "base/result.hpp"
#include "oci/compression.hpp"
#include "oci/digest.hpp"

namespace kiln::oci {

struct ExpectedDigests
{
  std::optional<Digest> diff_id;
  std::optional<Digest> blob;
};

class LayerReader
{
public:
  // Takes ownership of fd, read from its current offset to EOF.
  LayerReader(Fd fd, std::string name, ExpectedDigests expected);
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;
  ~LayerReader();

  // Up to `size` uncompressed bytes; 0 at the end of the stream. The end is
  // reported only after both digests matched (else an error naming them).
  Result<size_t> read(void* buffer, size_t size);

  Compression compression() const { return m_compression; }
  // Known once the stream has been read to its end.
  const std::optional<Digest>& diff_id() const { return m_diff_id; }
  const std::optional<Digest>& blob_digest() const { return m_blob_digest; }

private:
  struct Decoder;
  Result<size_t> fill_input();
  Result<void> verify();

  Fd m_fd;
  std::string m_name;
  ExpectedDigests m_expected;
  Compression m_compression = Compression::none;
  std::unique_ptr<Decoder> m_decoder;
  std::vector<unsigned char> m_input;
  size_t m_input_pos = 0;
  size_t m_input_end = 0;
  bool m_input_eof = false;
  bool m_detected = false;
  bool m_done = false;
  Hasher m_blob_hasher;
  Hasher m_diff_hasher;
  std::optional<Digest> m_diff_id;
  std::optional<Digest> m_blob_digest;
};

} // namespace kiln::oci
