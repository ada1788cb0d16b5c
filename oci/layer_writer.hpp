#pragma once

// Writes a layer: a normalised tar stream of LayerEntries and deletions,
// hashed (diff_id), compressed, hashed again (blob digest) and written into
// a Sink in one pass. Three stages run on their own threads with bounded
// queues between them: tar production (the caller's thread), hashing plus
// compression hand-off, and the compressor's workers. The pipeline's memory
// stays at a few chunks (k_chunk_size) whatever the layer size; the list
// form also holds its entry list, the streaming forms do not.
//
// Normalisation: entries sorted by path bytewise, numeric ids with empty
// user and group names, mtimes clamped to SOURCE_DATE_EPOCH (never raised),
// no atime/ctime, hardlinks by (device, inode), xattrs as SCHILY.xattr.,
// deletions as ".wh.NAME" and ".wh..wh..opq" entries (mode 0, owner 0).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "oci/compression.hpp"
#include "oci/digest.hpp"
#include "oci/layer_entry.hpp"
#include "oci/sink.hpp"
#include "oci/tree_walk.hpp"

namespace kiln::oci {

struct LayerWriteOptions
{
  CompressionOptions compression;
  // SOURCE_DATE_EPOCH: mtimes above it are lowered to it; none are raised.
  std::optional<int64_t> source_date_epoch;
};

struct LayerResult
{
  Digest diff_id; // sha256 of the uncompressed tar stream
  Digest digest;  // sha256 of the blob as written
  uint64_t size = 0;
  std::string media_type;
  // Entries in the tar stream, whiteout markers included: 0 for a layer that
  // changes nothing, which a streaming caller learns only once it is written.
  uint64_t entries = 0;
};

// Writes the layer into out. Entries are sorted here; the caller's order does
// not matter. Fails (naming the path) on unreadable content, a file that
// shrank while being read, duplicate paths, or a sink error; the sink's
// partial content must then be discarded.
Result<LayerResult> write_layer(std::vector<LayerEntry> entries, std::vector<Deletion> deletions,
                                const LayerWriteOptions& options, Sink& out);

// Hands a layer's items to `emit` in layer order (see LayerItem).
using LayerItemSource = std::function<Result<void>(const LayerItemVisitor& emit)>;

// Writes the layer from items that arrive already in layer order, as the
// list form writes the same items after sorting them: the same bytes, but
// memory does not grow with the number of entries. Fails on an item out of
// order or listed twice.
Result<LayerResult> write_layer_ordered(const LayerItemSource& source, const LayerWriteOptions& options,
                                        Sink& out);

// Writes the tree under dir_fd as a layer, streaming walk_tree_ordered into
// write_layer_ordered: memory depends on the tree's depth and its widest
// directory, not on its size.
Result<LayerResult> write_layer_tree(int dir_fd, WalkMode mode, const LayerWriteOptions& options, Sink& out);

// SOURCE_DATE_EPOCH from the environment, if set; fails on a malformed one.
Result<std::optional<int64_t>> source_date_epoch_from_env();

} // namespace kiln::oci
