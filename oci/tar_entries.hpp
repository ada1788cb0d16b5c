#pragma once

// Reads a tar stream (any compression libarchive knows) into layer entries.
// Regular files are spooled into a directory the caller owns, so the
// entries' owners, modes and xattrs come from the tar headers, not from the
// filesystem: an unprivileged user can re-pack a rootfs tarball that holds
// root-owned files and device nodes without losing them.

#include <filesystem>

#include "oci/layer_entry.hpp"

namespace kiln::oci {

struct TarEntries
{
  std::vector<LayerEntry> entries;
  size_t skipped = 0; // members with names that are unsafe in a layer
};

Result<TarEntries> read_tar_entries(const std::filesystem::path& archive, const std::filesystem::path& spool_dir);

} // namespace kiln::oci
