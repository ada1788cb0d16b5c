#pragma once

// An OCI image layout on disk, used as kiln's content store:
//   DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json            an image index; tags are ref.name annotations
//   DIR/blobs/<alg>/<hex>     content, named by its digest
//   DIR/index.json.lock       flock()ed around index.json updates
//
// Blobs are written to a temporary file in blobs/<alg>/, fsynced and
// renamed into place; index.json is replaced atomically, and only after
// every blob it names is durable. Every blob read is checked against its
// digest (and size when known).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "base/fileio.hpp"
#include "oci/descriptor.hpp"
#include "oci/manifest.hpp"
#include "oci/sink.hpp"

namespace kiln::oci {

// Streams one blob into the store. The digest is computed as bytes arrive;
// commit() makes the blob durable and visible. Destroying an uncommitted
// writer removes its temporary file.
class BlobWriter : public Sink
{
public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter() override;

  Result<void> write(const void* data, size_t size) override;
  // Makes the blob durable under its digest and returns its descriptor.
  // With `expected`, a blob whose bytes do not hash to it is discarded and
  // the error names both digests.
  Result<Descriptor> commit(std::string_view media_type, const std::optional<Digest>& expected = std::nullopt);
  uint64_t bytes_written() const { return m_hasher.bytes(); }

private:
  friend class Layout;
  BlobWriter(std::filesystem::path blobs_dir, std::filesystem::path temp, Fd fd);
  void discard();

  std::filesystem::path m_blobs_dir;
  std::filesystem::path m_temp;
  Fd m_fd;
  Hasher m_hasher;
};

class Layout
{
public:
  // Opens an existing layout; the error says what is missing or wrong.
  static Result<Layout> open(const std::filesystem::path& dir);
  // Opens a layout, creating the directory and its skeleton if missing.
  static Result<Layout> create(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return m_dir; }
  std::filesystem::path blob_path(const Digest& digest) const;
  bool has_blob(const Digest& digest) const;

  // Reads a whole blob and checks its digest and (when given) its size.
  Result<std::string> read_blob(const Digest& digest, std::optional<int64_t> size = std::nullopt) const;
  Result<std::string> read_blob(const Descriptor& descriptor) const
  {
    return read_blob(descriptor.digest, descriptor.size);
  }
  // Opens a blob for streaming; the reader checks the digest as it reads.
  Result<Fd> open_blob(const Digest& digest) const;

  Result<BlobWriter> new_blob() const;
  Result<Descriptor> write_blob(std::string_view data, std::string_view media_type) const;
  // Streams a file into the store without holding it in memory.
  Result<Descriptor> write_blob_from_file(const std::filesystem::path& file, std::string_view media_type) const;

  Result<ImageIndex> read_index() const;
  // The index.json entry tagged `tag`, or the only entry when tag is empty.
  Result<Descriptor> resolve(std::string_view tag) const;
  // Under the layout's lock: reads index.json, lets `edit` change it, and
  // replaces it atomically.
  Result<void> update_index(const std::function<Result<void>(ImageIndex&)>& edit) const;
  // Points `tag` at `manifest` (replacing any entry with that tag).
  Result<void> set_tag(std::string_view tag, Descriptor manifest) const;

private:
  explicit Layout(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  std::filesystem::path m_dir;
};

// Reads a blob from an fd to the end, hashing as it goes, and checks digest and size.
Result<std::string> read_verified(int fd, const Digest& digest, std::optional<int64_t> size, std::string_view what);

} // namespace kiln::oci
