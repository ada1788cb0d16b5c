#include "signer/source.hpp"

#include <fmt/core.h>

namespace kiln::signer {

Result<std::optional<std::string>> LayoutAttachmentSource::tagged_manifest(std::string_view tag)
{
  auto index = m_layout.read_index();
  if (!index) {
    return fail(index.error());
  }
  for (const auto& entry : index->manifests) {
    auto name = entry.annotations.find(std::string(oci::k_annotation_ref_name));
    if (name != entry.annotations.end() && name->second == tag) {
      auto bytes = m_layout.read_blob(entry);
      if (!bytes) {
        return fail(bytes.error());
      }
      return std::optional<std::string>(std::move(*bytes));
    }
  }
  return std::optional<std::string>();
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
