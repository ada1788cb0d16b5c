#include "builder/reproducible.hpp"

#include <fmt/core.h>

#include "oci/json.hpp"
#include "oci/layer_members.hpp"

namespace kiln::builder {

namespace {

// The first JSON path where two documents differ, with both values.
std::string json_difference(const oci::Json& a, const oci::Json& b, const std::string& path)
{
  if (a.type() != b.type()) {
    return fmt::format("{}: {} vs {}", path, a.dump(), b.dump());
  }
  if (a.is_object()) {
    for (const auto& [key, value] : a.items()) {
      std::string here = path.empty() ? key : path + "." + key;
      if (!b.contains(key)) {
        return fmt::format("{}: only in the first build", here);
      }
      if (auto diff = json_difference(value, b.at(key), here); !diff.empty()) {
        return diff;
      }
    }
    for (const auto& [key, value] : b.items()) {
      if (!a.contains(key)) {
        return fmt::format("{}: only in the second build", path.empty() ? key : path + "." + key);
      }
    }
    return "";
  }
  if (a.is_array()) {
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
      if (auto diff = json_difference(a[i], b[i], fmt::format("{}[{}]", path, i)); !diff.empty()) {
        return diff;
      }
    }
    return a.size() == b.size() ? "" : fmt::format("{}: {} vs {} items", path, a.size(), b.size());
  }
  return a == b ? "" : fmt::format("{}: {} vs {}", path, a.dump(), b.dump());
}

// The history entry that made layer `index` (empty layers have none).
std::string step_of(const oci::ImageConfig& config, size_t index)
{
  size_t layer = 0;
  for (const auto& history : config.history) {
    if (history.empty_layer) {
      continue;
    }
    if (layer++ == index) {
      return history.created_by;
    }
  }
  return "?";
}

} // namespace

Result<std::string> compare_builds(const oci::Layout& first, const oci::Descriptor& first_manifest,
                                   const oci::Layout& second, const oci::Descriptor& second_manifest,
                                   const oci::Platform& platform)
{
  if (first_manifest.digest == second_manifest.digest) {
    return std::string();
  }
  auto a = oci::load_image(first, first_manifest, platform);
  auto b = a ? oci::load_image(second, second_manifest, platform) : Result<oci::Image>(fail(a.error()));
  if (!b) {
    return fail(b.error());
  }
  const auto& la = a->manifest.layers;
  const auto& lb = b->manifest.layers;
  for (size_t i = 0; i < std::min(la.size(), lb.size()); ++i) {
    if (la[i].digest == lb[i].digest) {
      continue;
    }
    std::string where = fmt::format("layer {} ({})", i + 1, step_of(a->config, i));
    if (a->config.diff_ids.at(i) == b->config.diff_ids.at(i)) {
      return fmt::format("{}: the same tar stream compressed to different bytes", where);
    }
    auto ma = oci::list_layer_members(first, la[i]);
    auto mb = ma ? oci::list_layer_members(second, lb[i]) : Result<std::vector<oci::LayerMember>>(fail(ma.error()));
    if (!mb) {
      return fail(mb.error());
    }
    std::string diff = oci::first_member_difference(*ma, *mb);
    return fmt::format("{}: {}", where, diff.empty() ? "the tar streams differ in padding or headers" : diff);
  }
  if (la.size() != lb.size()) {
    return fmt::format("{} layers vs {}", la.size(), lb.size());
  }
  auto ca = oci::parse_json(a->config_bytes, "config");
  auto cb = oci::parse_json(b->config_bytes, "config");
  if (ca && cb && *ca != *cb) {
    return fmt::format("config: {}", json_difference(*ca, *cb, ""));
  }
  auto ja = oci::parse_json(a->manifest_bytes, "manifest");
  auto jb = oci::parse_json(b->manifest_bytes, "manifest");
  if (ja && jb) {
    return fmt::format("manifest: {}", json_difference(*ja, *jb, ""));
  }
  return std::string("the manifests differ");
}

} // namespace kiln::builder
