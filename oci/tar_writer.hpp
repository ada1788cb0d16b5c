#pragma once

// Normalised tar headers, written by hand rather than through libarchive:
// kiln's digests depend on every byte of them, and writing ustar and PAX
// records directly makes each field's value explicit (numeric ids, empty
// user and group names, no atime/ctime, fixed PAX entry names) and lets file
// data be read straight into the output chunk without another copy.
//
//   entry   ::= [pax] ustar-header data padding
//   pax     ::= ustar-header(type 'x', name "PaxHeaders/BASENAME") records padding
//   record  ::= LEN " " KEY "=" VALUE "\n"        (LEN counts the whole record)
//   stream  ::= entry* 1024 zero bytes
//
// PAX records appear only when a field does not fit ustar: path or linkpath
// over 100 bytes, size ≥ 8 GiB, ids ≥ 2^21, a negative or huge mtime, and
// every xattr as SCHILY.xattr.NAME.

#include <cstdint>
#include <string>
#include <string_view>

#include "oci/layer_entry.hpp"

namespace kiln::oci {

// The header block(s) for an entry, PAX records included. `name` is the tar
// name (directories end with '/'); `size` the data that follows. For a
// hardlink, entry.hardlink_target is the link name.
std::string tar_header(const LayerEntry& entry, std::string_view name, int64_t mtime);

// The tar typeflag of an entry type ('0' file, '5' directory, ...).
char type_flag(EntryType type);

// Zero bytes needed to pad `size` bytes of data to the 512-byte block size.
inline size_t tar_padding(uint64_t size)
{
  return static_cast<size_t>((512 - size % 512) % 512);
}

} // namespace kiln::oci
