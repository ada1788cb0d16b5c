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

  // For a caller that hashes the uncompressed stream itself, on another
  // thread (hashing is a third of the reading's CPU time): read() then
  // checks only the blob digest at the end, and the stream counts as
  // verified only once check_diff_id() accepted the caller's digest.
  void hash_output_elsewhere() { m_hash_output = false; }
  Result<void> check_diff_id(const Digest& computed);

  Compression compression() const { return m_compression; }
  // Known once the stream has been read to its end (and, when hashed
  // elsewhere, checked).
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
  bool m_hash_output = true;
  Hasher m_blob_hasher;
  Hasher m_diff_hasher;
  std::optional<Digest> m_diff_id;
  std::optional<Digest> m_blob_digest;
};

} // namespace kiln::oci
