#pragma once

// What an unprivileged extraction could not apply: owners it could not set,
// device nodes it could not create, xattrs it was not allowed to write. The
// layer store keeps this next to each extracted layer so a later layer,
// `COPY --from` or a repack can reproduce the real metadata.
//
//   { "version": 1,
//     "entries": [ { "path": "usr/bin/su", "type": "file", "uid": 0, "gid": 0, "mode": 2541,
//                    "device"?: [major, minor], "skipped"?: true,
//                    "xattrs"?: { "security.capability": "<base64>" } } ] }
//
// "skipped" means the entry does not exist on disk (a device node).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "oci/layer_entry.hpp"

namespace kiln::oci {

struct OwnershipRecord
{
  std::string path;
  EntryType type = EntryType::regular;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0;
  uint32_t dev_major = 0;
  uint32_t dev_minor = 0;
  bool skipped = false;
  std::vector<std::pair<std::string, std::string>> xattrs;

  friend bool operator==(const OwnershipRecord&, const OwnershipRecord&) = default;
};

std::string_view entry_type_name(EntryType type);
std::string ownership_json(const std::vector<OwnershipRecord>& records);
Result<std::vector<OwnershipRecord>> parse_ownership_json(std::string_view text);

} // namespace kiln::oci
