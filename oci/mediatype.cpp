#include "oci/mediatype.hpp"

namespace kiln::oci::mediatype {

bool is_manifest(std::string_view media_type)
{
  return media_type == k_oci_manifest || media_type == k_docker_manifest;
}

bool is_index(std::string_view media_type)
{
  return media_type == k_oci_index || media_type == k_docker_manifest_list;
}

LayerCompression layer_compression(std::string_view media_type)
{
  if (media_type == k_oci_layer_tar || media_type == k_docker_layer_tar
      || media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar") {
    return LayerCompression::none;
  }
  if (media_type == k_oci_layer_gzip || media_type == k_docker_layer_gzip
      || media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip") {
    return LayerCompression::gzip;
  }
  if (media_type == k_oci_layer_zstd || media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd") {
    return LayerCompression::zstd;
  }
  return LayerCompression::unknown;
}

bool is_layer(std::string_view media_type)
{
  return layer_compression(media_type) != LayerCompression::unknown;
}

} // namespace kiln::oci::mediatype
