#include "signer/attachment.hpp"

#include "signer/strict_json.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace kiln::signer {

namespace {

std::map<std::string, std::string> without_signature(std::map<std::string, std::string> annotations)
{
  annotations.erase(std::string(k_signature_annotation));
  return annotations;
}

nlohmann::ordered_json descriptor(std::string_view media_type, uint64_t size, const oci::Digest& digest)
{
  nlohmann::ordered_json out;
  out["mediaType"] = std::string(media_type);
  out["size"] = size;
  out["digest"] = digest.str();
  return out;
}

} // namespace

std::string attachment_tag(const oci::Digest& image, AttachmentKind kind)
{
  return fmt::format("{}-{}.{}", image.algorithm_name(), image.hex(),
                     kind == AttachmentKind::signatures ? "sig" : "att");
}

Result<std::vector<AttachmentLayer>> parse_attachment_manifest(std::string_view manifest)
{
  auto doc = parse_strict_json(manifest);
  if (!doc) {
    return fail("attachment manifest: " + doc.error());
  }
  if (!doc->is_object() || !doc->contains("mediaType") || (*doc)["mediaType"] != k_oci_manifest_media_type) {
    return fail("attachment manifest is not an OCI image manifest");
  }
  if (!doc->contains("layers") || !(*doc)["layers"].is_array()) {
    return fail("attachment manifest has no layers array");
  }
  std::vector<AttachmentLayer> layers;
  for (const auto& entry : (*doc)["layers"]) {
    try {
      auto digest = oci::Digest::parse(entry.at("digest").get<std::string>());
      if (!digest) {
        return fail("attachment manifest layer: " + digest.error());
      }
      AttachmentLayer layer{
          entry.at("mediaType").get<std::string>(), *digest, entry.at("size").get<uint64_t>(), {}};
      if (entry.contains("annotations")) {
        layer.annotations = entry["annotations"].get<std::map<std::string, std::string>>();
      }
      layers.push_back(std::move(layer));
    } catch (const nlohmann::json::exception&) {
      return fail("attachment manifest layer lacks mediaType, size or digest, or has non-string annotations");
    }
  }
  return layers;
}

AttachmentImage append_attachment(const std::vector<AttachmentLayer>& existing,
                                  const AttachmentLayer& new_layer, std::string_view new_blob,
                                  const SameSigner& same_signer, Replace replace)
{
  const std::string predicate_key(k_predicate_type_annotation);
  std::vector<AttachmentLayer> layers;
  bool duplicate = false;
  for (const auto& layer : existing) {
    if (replace == Replace::same_predicate_type && layer.annotations.contains(predicate_key) &&
        new_layer.annotations.contains(predicate_key) &&
        layer.annotations.at(predicate_key) == new_layer.annotations.at(predicate_key)) {
      continue;
    }
    if (layer.digest == new_layer.digest && layer.media_type == new_layer.media_type &&
        without_signature(layer.annotations) == without_signature(new_layer.annotations) &&
        same_signer(layer)) {
      duplicate = true;
    }
    layers.push_back(layer);
  }
  AttachmentImage image;
  if (!duplicate) {
    layers.push_back(new_layer);
    image.blobs.push_back({new_layer.digest, std::string(new_blob)});
    image.added = true;
  }

  // cosign's empty config: one history entry and one diff_id (= the
  // uncompressed layer's digest) per layer.
  nlohmann::ordered_json config;
  config["architecture"] = "";
  config["created"] = "0001-01-01T00:00:00Z";
  config["history"] = nlohmann::ordered_json::array();
  config["os"] = "";
  config["rootfs"]["type"] = "layers";
  config["rootfs"]["diff_ids"] = nlohmann::ordered_json::array();
  for (const auto& layer : layers) {
    config["history"].push_back({{"created", "0001-01-01T00:00:00Z"}});
    config["rootfs"]["diff_ids"].push_back(layer.digest.str());
  }
  config["config"] = nlohmann::ordered_json::object();
  image.config = config.dump();
  oci::Digest config_digest = oci::Digest::of(image.config);
  image.blobs.insert(image.blobs.begin(), Blob{config_digest, image.config});

  nlohmann::ordered_json manifest;
  manifest["schemaVersion"] = 2;
  manifest["mediaType"] = std::string(k_oci_manifest_media_type);
  manifest["config"] = descriptor(k_oci_config_media_type, image.config.size(), config_digest);
  manifest["layers"] = nlohmann::ordered_json::array();
  for (const auto& layer : layers) {
    auto entry = descriptor(layer.media_type, layer.size, layer.digest);
    entry["annotations"] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : layer.annotations) {
      entry["annotations"][key] = value;
    }
    manifest["layers"].push_back(std::move(entry));
  }
  image.manifest = manifest.dump();
  return image;
}

} // namespace kiln::signer
