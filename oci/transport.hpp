#pragma once

// Where images come from and go to. Every transport is seen through an OCI
// layout: oci: and the local store are layouts already; archives are
// unpacked into (or packed from) a temporary layout; the registry transport
// (its own issue) will fetch into and push from one too. Callers never see
// which transport they hold.

#include <memory>
#include <optional>
#include <set>

#include "oci/image.hpp"
#include "oci/reference.hpp"

namespace kiln::oci {

class ImageSource
{
public:
  static Result<ImageSource> open(const ImageReference& reference);
  ImageSource(ImageSource&&) noexcept;
  ImageSource& operator=(ImageSource&&) noexcept;
  ~ImageSource();

  const Layout& layout() const { return *m_layout; }
  // What the reference names: an image manifest or an index.
  const Descriptor& top() const { return m_top; }
  const ImageReference& reference() const { return m_reference; }

private:
  ImageSource() = default;
  ImageReference m_reference;
  std::unique_ptr<TempDir> m_temp;
  std::optional<Layout> m_layout;
  Descriptor m_top;
};

class ImageDestination
{
public:
  static Result<ImageDestination> open(const ImageReference& reference);
  ImageDestination(ImageDestination&&) noexcept;
  ImageDestination& operator=(ImageDestination&&) noexcept;
  ~ImageDestination();

  // Blobs go here first; nothing is visible at the destination until commit.
  const Layout& layout() const { return *m_layout; }
  // Makes `top` (whose blobs are all in layout()) the image the reference
  // names: a tag update for layouts, an atomic archive write for archives.
  Result<void> commit(const Descriptor& top);

private:
  ImageDestination() = default;
  ImageReference m_reference;
  std::unique_ptr<TempDir> m_temp;
  std::optional<Layout> m_layout;
  // A layout directory that did not exist yet is staged beside its final
  // place and renamed there on commit, so a failed write leaves nothing.
  std::filesystem::path m_final_dir;
};

// link_when_possible: a blob file is hard-linked instead of copied when both
// layouts share a file system and the kernel allows it (then read once to
// check its digest). For content stores kiln reads back with digest checks,
// such as the build cache; a user's copy of an image stays a copy.
enum class BlobTransfer { copy, link_when_possible };

// Hard-links every blob reachable from `top` that `to` lacks, as
// link_when_possible does, copying manifests and configs it cannot link and
// leaving out the layers it cannot link (the kernel refuses to link another
// user's file where fs.protected_hardlinks is set): those are returned, for
// the caller to read from `from` when it needs them. `checked`: blobs of
// `from` the caller has just read whole with a digest check (extracting a
// layer does): a hard link to one is not read again.
Result<std::vector<Descriptor>> link_blobs(const Layout& from, const Layout& to, const Descriptor& top,
                                           const std::set<Digest>& checked = {});

// Copies every blob reachable from `top` that `to` lacks, children before
// parents, checking each digest on the way.
Result<void> copy_blobs(const Layout& from, const Layout& to, const Descriptor& top,
                        BlobTransfer transfer = BlobTransfer::copy);

// The mtime written into archive members: SOURCE_DATE_EPOCH, else 0.
int64_t archive_mtime();

} // namespace kiln::oci
