#include "oci/image.hpp"

#include <set>

#include <fmt/core.h>

#include "oci/mediatype.hpp"

namespace kiln::oci {

namespace {

Result<ManifestKind> kind_of(const Descriptor& d, std::string_view bytes)
{
  if (mediatype::is_index(d.media_type)) {
    return ManifestKind::index;
  }
  if (mediatype::is_manifest(d.media_type)) {
    return ManifestKind::manifest;
  }
  return sniff_manifest(bytes);
}

} // namespace

Result<Image> load_image(const Layout& layout, const Descriptor& top, const Platform& platform)
{
  auto bytes = layout.read_blob(top);
  if (!bytes) {
    return fail(bytes.error());
  }
  auto kind = kind_of(top, *bytes);
  if (!kind) {
    return fail(fmt::format("{}: {}", top.digest.short_str(), kind.error()));
  }
  Image image;
  image.descriptor = top;
  if (*kind == ManifestKind::index) {
    auto index = ImageIndex::parse(*bytes);
    if (!index) {
      return fail(fmt::format("{}: {}", top.digest.short_str(), index.error()));
    }
    const Descriptor* chosen = nullptr;
    for (const auto& m : index->manifests) {
      if (!mediatype::is_manifest(m.media_type)) {
        continue;
      }
      if (m.platform && m.platform->matches(platform)) {
        chosen = &m;
        break;
      }
    }
    if (chosen == nullptr) {
      return fail(fmt::format("image index {} has no manifest for platform {}", top.digest.short_str(),
                              platform.str()));
    }
    image.index = top;
    image.descriptor = *chosen;
    bytes = layout.read_blob(*chosen);
    if (!bytes) {
      return fail(bytes.error());
    }
  }
  image.manifest_bytes = std::move(*bytes);
  auto manifest = ImageManifest::parse(image.manifest_bytes);
  if (!manifest) {
    return fail(fmt::format("{}: {}", image.descriptor.digest.short_str(), manifest.error()));
  }
  image.manifest = std::move(*manifest);
  auto config_bytes = layout.read_blob(image.manifest.config);
  if (!config_bytes) {
    return fail(config_bytes.error());
  }
  image.config_bytes = std::move(*config_bytes);
  auto config = ImageConfig::parse(image.config_bytes);
  if (!config) {
    return fail(fmt::format("{}: {}", image.manifest.config.digest.short_str(), config.error()));
  }
  image.config = std::move(*config);
  if (image.config.diff_ids.size() != image.manifest.layers.size()) {
    return fail(fmt::format("image {}: manifest has {} layers but config lists {} diff_ids",
                            image.descriptor.digest.short_str(), image.manifest.layers.size(),
                            image.config.diff_ids.size()));
  }
  return image;
}

Result<std::vector<Descriptor>> reachable(const Layout& layout, const Descriptor& top)
{
  std::vector<Descriptor> out;
  std::set<std::string> seen;
  std::vector<Descriptor> pending{top};
  while (!pending.empty()) {
    Descriptor d = std::move(pending.back());
    pending.pop_back();
    if (!seen.insert(d.digest.str()).second) {
      continue;
    }
    out.push_back(d);
    bool maybe_manifest = mediatype::is_index(d.media_type) || mediatype::is_manifest(d.media_type);
    if (!maybe_manifest) {
      continue;
    }
    auto bytes = layout.read_blob(d);
    if (!bytes) {
      return fail(bytes.error());
    }
    auto kind = kind_of(d, *bytes);
    if (!kind) {
      return fail(fmt::format("{}: {}", d.digest.short_str(), kind.error()));
    }
    if (*kind == ManifestKind::index) {
      auto index = ImageIndex::parse(*bytes);
      if (!index) {
        return fail(fmt::format("{}: {}", d.digest.short_str(), index.error()));
      }
      for (auto it = index->manifests.rbegin(); it != index->manifests.rend(); ++it) {
        pending.push_back(*it);
      }
    } else {
      auto manifest = ImageManifest::parse(*bytes);
      if (!manifest) {
        return fail(fmt::format("{}: {}", d.digest.short_str(), manifest.error()));
      }
      for (auto it = manifest->layers.rbegin(); it != manifest->layers.rend(); ++it) {
        pending.push_back(*it);
      }
      pending.push_back(manifest->config);
    }
  }
  return out;
}

} // namespace kiln::oci
