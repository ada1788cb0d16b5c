#pragma once

// cosign's tag-based attachments: the `.sig` (signatures) and `.att`
// (attestations) images, tagged sha256-<hex>.sig / .att next to the image.
//
//   manifest: {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
//              "config":{<config
//              descriptor>},"layers":[{"mediaType":..,"size":..,"digest":..,"annotations":{..}}...]}
//   config:
//   {"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}...],
//              "os":"","rootfs":{"type":"layers","diff_ids":[<layer digest>...]},"config":{}}
//
// The signer builds these as bytes; oci stores them.

#include "base/result.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::signer {

inline constexpr std::string_view k_signature_annotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view k_certificate_annotation = "dev.sigstore.cosign/certificate";
inline constexpr std::string_view k_chain_annotation = "dev.sigstore.cosign/chain";
inline constexpr std::string_view k_rekor_bundle_annotation = "dev.sigstore.cosign/bundle";
inline constexpr std::string_view k_predicate_type_annotation = "predicateType";
// index.json annotations cosign's `save` writes to find each entry.
inline constexpr std::string_view k_kind_annotation = "kind";
inline constexpr std::string_view k_kind_image = "dev.cosignproject.cosign/image";
inline constexpr std::string_view k_kind_image_index = "dev.cosignproject.cosign/imageIndex";
inline constexpr std::string_view k_kind_sigs = "dev.cosignproject.cosign/sigs";
inline constexpr std::string_view k_kind_atts = "dev.cosignproject.cosign/atts";
inline constexpr std::string_view k_oci_manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_config_media_type = "application/vnd.oci.image.config.v1+json";
// containers/image refuses bigger signature layers.
inline constexpr uint64_t k_max_attachment_layer = 4 << 20;

enum class AttachmentKind { signatures, attestations };

// "sha256-<hex>.sig" / ".att" for the image digest.
std::string attachment_tag(const oci::Digest& image, AttachmentKind kind);

struct AttachmentLayer
{
  std::string media_type;
  oci::Digest digest;
  uint64_t size = 0;
  std::map<std::string, std::string> annotations;
};

// The layers of an existing attachment manifest (OCI media type only, as containers/image requires).
Result<std::vector<AttachmentLayer>> parse_attachment_manifest(std::string_view manifest);

struct Blob
{
  oci::Digest digest;
  std::string data;
};

struct AttachmentImage
{
  std::string manifest;
  std::string config;
  std::vector<Blob> blobs; // config and the new layer blob (when added)
  bool added = false;      // false when the layer was already there
};

enum class Replace { same_predicate_type, no };

// Whether an existing layer's signature verifies with the key that signs the new one.
using SameSigner = std::function<bool(const AttachmentLayer&)>;

// The manifest with new_layer appended to existing. As cosign does, nothing
// is added when an existing layer has the same digest, media type and
// non-signature annotations and same_signer accepts it. Replace::
// same_predicate_type first drops layers with new_layer's predicateType
// annotation (`attest --replace`).
AttachmentImage append_attachment(const std::vector<AttachmentLayer>& existing,
                                  const AttachmentLayer& new_layer, std::string_view new_blob,
                                  const SameSigner& same_signer, Replace replace = Replace::no);

} // namespace kiln::signer
