#pragma once

// Writes a finished image (config, then manifest) into a layout. The config's
// rootfs.diff_ids must list the layers' diff_ids in order.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/config.hpp"
#include "oci/layout.hpp"

namespace kiln::oci {

Result<Descriptor> write_image(const Layout& layout, const ImageConfig& config, const std::vector<Descriptor>& layers,
                               const std::map<std::string, std::string>& annotations = {});

// The timestamp kiln writes into configs and history: the epoch when
// SOURCE_DATE_EPOCH (or --timestamp) fixes one, else the current time.
std::string image_timestamp(std::optional<int64_t> epoch);

} // namespace kiln::oci
