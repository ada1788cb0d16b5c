#include "signer/source.hpp"

#include <fmt/core.h>

namespace kiln::signer {

Result<std::optional<std::string>> LayoutAttachmentSource::tagged_manifest(std::string_view tag)
{
  auto index = m_layout.read_index();
  if (!index) {
    return fail(index.error());
  }
  auto annotation = [](const oci::Descriptor& entry, std::string_view key) {
    auto it = entry.annotations.find(std::string(key));
    return it == entry.annotations.end() ? std::string() : it->second;
  };
  const oci::Descriptor* found = nullptr;
  for (const auto& entry : index->manifests) {
    if (annotation(entry, oci::k_annotation_ref_name) == tag) {
      found = &entry;
    }
  }
  if (found == nullptr) {
    // cosign's layout: the tag's digest must be the one image's digest.
    std::string_view wanted_kind = tag.ends_with(".sig") ? k_kind_sigs : k_kind_atts;
    const oci::Descriptor* image = nullptr;
    const oci::Descriptor* attachment = nullptr;
    int images = 0;
    for (const auto& entry : index->manifests) {
      std::string kind = annotation(entry, k_kind_annotation);
      if (kind == k_kind_image || kind == k_kind_image_index) {
        image = &entry;
        ++images;
      } else if (kind == wanted_kind && annotation(entry, oci::k_annotation_ref_name).empty()) {
        attachment = &entry;
      }
    }
    if (images == 1 && attachment != nullptr && tag.starts_with(image->digest.algorithm_name()) &&
        attachment_tag(image->digest, tag.ends_with(".sig") ? AttachmentKind::signatures
                                                            : AttachmentKind::attestations) == tag) {
      found = attachment;
    }
  }
  if (found == nullptr) {
    return std::optional<std::string>();
  }
  auto bytes = m_layout.read_blob(*found);
  if (!bytes) {
    return fail(bytes.error());
  }
  return std::optional<std::string>(std::move(*bytes));
}

Result<std::string> LayoutAttachmentSource::blob(const oci::Digest& digest, uint64_t size)
{
  return m_layout.read_blob(digest, static_cast<int64_t>(size));
}

Result<std::vector<SignatureEvidence>> load_attachments(AttachmentSource& source, const oci::Digest& image,
                                                        AttachmentKind kind)
{
  std::string tag = attachment_tag(image, kind);
  auto manifest = source.tagged_manifest(tag);
  if (!manifest) {
    return fail(fmt::format("read {}: {}", tag, manifest.error()));
  }
  std::vector<SignatureEvidence> out;
  if (!*manifest) {
    return out;
  }
  auto layers = parse_attachment_manifest(**manifest);
  if (!layers) {
    return fail(fmt::format("read {}: {}", tag, layers.error()));
  }
  for (const auto& layer : *layers) {
    if (layer.size > k_max_attachment_layer) {
      return fail(fmt::format("read {}: layer {} is {} bytes, over the 4 MiB limit", tag, layer.digest.str(),
                              layer.size));
    }
    auto blob = source.blob(layer.digest, layer.size);
    if (!blob) {
      return fail(fmt::format("read {}: {}", tag, blob.error()));
    }
    out.push_back({layer.media_type, std::move(*blob), layer.annotations});
  }
  return out;
}

} // namespace kiln::signer
