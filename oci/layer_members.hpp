#pragma once

// The members of a layer as a list of their tar headers and content
// digests, read through LayerReader (so both digests are checked), for
// comparing two layers that should have been identical.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oci/layout.hpp"

namespace kiln::oci {

struct LayerMember
{
  std::string path;
  char type = '0'; // '0' file, '5' directory, '2' symlink, '1' hardlink, '3'/'4' devices, '6' fifo
  uint32_t mode = 0;
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t mtime = 0;
  int64_t size = 0;
  std::string link;    // symlink or hardlink target
  std::string xattrs;  // "name=hex;..." in the order stored
  std::string content; // sha256 of a regular file's bytes
};

Result<std::vector<LayerMember>> list_layer_members(const Layout& layout, const Descriptor& layer);

// The content of the regular file at `path` (a cleaned member path, e.g.
// "etc/passwd") in the layer; nullopt when the layer has no such file.
Result<std::optional<std::string>> read_layer_file(const Layout& layout, const Descriptor& layer,
                                                   const std::string& path);

// The first difference between two member lists, as "PATH: FIELD A vs B"
// ("" when they are the same).
std::string first_member_difference(const std::vector<LayerMember>& a, const std::vector<LayerMember>& b);

} // namespace kiln::oci
