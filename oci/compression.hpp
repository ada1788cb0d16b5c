#pragma once

// Layer compression: none, gzip (ISA-L igzip, blocks compressed in parallel
// and joined into one gzip member as pigz does) or zstd (libzstd's worker
// threads). Compressors take the uncompressed stream in chunks and write the
// compressed stream to a Sink; their output depends only on the input bytes,
// the level and kiln's fixed chunk size, never on timing or core count.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "oci/sink.hpp"

namespace kiln::oci {

enum class Compression { none, gzip, zstd };

using Chunk = std::vector<unsigned char>;

// Uncompressed bytes per chunk; the gzip block size, so it shapes the output
// bytes and must not change without a version bump.
constexpr size_t k_chunk_size = 1 << 20;

Result<Compression> parse_compression(std::string_view name);
std::string_view compression_name(Compression compression);
// "application/vnd.oci.image.layer.v1.tar", "...+gzip", "...+zstd".
std::string_view layer_media_type(Compression compression);
// The compression a layer media type names (OCI and Docker schema 2).
std::optional<Compression> compression_of_media_type(std::string_view media_type);
// kiln's default level: gzip 3 (igzip's best), zstd 3.
int default_level(Compression compression);

struct CompressionOptions
{
  Compression kind = Compression::gzip;
  std::optional<int> level;
  unsigned threads = 0; // 0: every core
};

// From command-line words (--compression, --compression-level); absent
// means gzip at its default level. Levels are checked by Compressor::make.
Result<CompressionOptions> compression_options(const std::optional<std::string>& name,
                                               const std::optional<std::string>& level);

class Compressor
{
public:
  virtual ~Compressor() = default;
  // Takes the next chunk of the uncompressed stream.
  virtual Result<void> write(Chunk chunk) = 0;
  // Ends the stream; no write() afterwards.
  virtual Result<void> finish() = 0;

  // Fails on a level the compressor does not have (gzip 0-9, of which igzip
  // maps 1 → 1, 2 → 2 and 3-9 → 3; zstd 1-22).
  static Result<std::unique_ptr<Compressor>> make(const CompressionOptions& options, Sink& out);
};

} // namespace kiln::oci
