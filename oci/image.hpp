#pragma once

// One image, loaded from a layout: the manifest (exact bytes, as signed) and
// its config, both checked against their digests.

#include <string>

#include "oci/config.hpp"
#include "oci/layout.hpp"

namespace kiln::oci {

struct Image
{
  Descriptor descriptor; // of the manifest
  std::string manifest_bytes;
  ImageManifest manifest;
  std::string config_bytes;
  ImageConfig config;
  std::optional<Descriptor> index; // the index it was chosen from, if any
};

// Loads the image `top` names; for an index, the manifest for `platform`.
Result<Image> load_image(const Layout& layout, const Descriptor& top, const Platform& platform);

// Every descriptor reachable from `top` (itself, children of indexes,
// configs, layers), each once, parents before children.
Result<std::vector<Descriptor>> reachable(const Layout& layout, const Descriptor& top);

} // namespace kiln::oci
