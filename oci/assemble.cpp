#include "oci/assemble.hpp"

#include <ctime>

#include <fmt/core.h>

#include "base/strings.hpp"
#include "oci/mediatype.hpp"

namespace kiln::oci {

Result<Descriptor> write_image(const Layout& layout, const ImageConfig& config, const std::vector<Descriptor>& layers,
                               const std::map<std::string, std::string>& annotations)
{
  if (config.diff_ids.size() != layers.size()) {
    return fail(fmt::format("write image: {} layers but the config lists {} diff_ids", layers.size(),
                            config.diff_ids.size()));
  }
  auto config_descriptor = layout.write_blob(config.serialize(), mediatype::k_oci_config);
  if (!config_descriptor) {
    return fail(config_descriptor.error());
  }
  ImageManifest manifest;
  manifest.media_type = mediatype::k_oci_manifest;
  manifest.config = *config_descriptor;
  manifest.layers = layers;
  manifest.annotations = annotations;
  auto manifest_descriptor = layout.write_blob(manifest.serialize(), mediatype::k_oci_manifest);
  if (!manifest_descriptor) {
    return fail(manifest_descriptor.error());
  }
  manifest_descriptor->platform = config.platform();
  return manifest_descriptor;
}

std::string image_timestamp(std::optional<int64_t> epoch)
{
  return rfc3339_utc(epoch ? *epoch : static_cast<int64_t>(std::time(nullptr)));
}

} // namespace kiln::oci
