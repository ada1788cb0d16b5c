#pragma once

// Tar archives of whole image stores: oci-archive (a tar of an OCI layout)
// and docker-archive (`docker save` format). Layer tars inside images are
// the layer engine's business, not this file's.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "oci/layout.hpp"

namespace kiln::oci {

// Extracts regular files and directories from a tar into `dir` (a fresh
// directory the caller owns). Every name must pass `allowed`; links,
// devices, absolute names and ".." are refused, so nothing lands outside dir.
Result<void> extract_store_archive(const std::filesystem::path& archive, const std::filesystem::path& dir,
                                   const std::function<bool(std::string_view)>& allowed);

// One file of an archive being written: its name inside the archive and
// where its bytes come from.
struct ArchiveMember
{
  std::string name;
  std::filesystem::path source;
};

// Writes members (in the given order) as a deterministic tar: numeric owner
// 0:0, empty user and group names, mode 0644, mtime `mtime`. The archive
// appears at `archive` atomically (temp file, fsync, rename).
Result<void> write_store_archive(const std::filesystem::path& archive, const std::vector<ArchiveMember>& members,
                                 int64_t mtime);

// Writes the uncompressed form of a layer blob to `out`, checking the blob's
// digest and the uncompressed stream's diff_id as it goes.
Result<void> decompress_layer(const Layout& layout, const Descriptor& layer, const Digest& diff_id,
                              const std::filesystem::path& out);

// Whether a name is a plain relative path with no "", "." or ".." component.
bool is_safe_relative_name(std::string_view name);

} // namespace kiln::oci
