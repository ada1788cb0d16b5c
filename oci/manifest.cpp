#include "oci/manifest.hpp"

#include <fmt/core.h>

#include "oci/mediatype.hpp"

namespace kiln::oci {

namespace {

void check_schema_version(Json& object, std::string_view what)
{
  Json version = take(object, "schemaVersion");
  if (!version.is_number_integer() || version.get<int>() != 2) {
    throw JsonShapeError(fmt::format("{}: schemaVersion must be 2", what));
  }
}

std::optional<Descriptor> take_subject(Json& object)
{
  Json subject = take(object, "subject");
  if (subject.is_null()) {
    return std::nullopt;
  }
  return Descriptor::from_json(std::move(subject), "subject");
}

std::vector<Descriptor> take_descriptors(Json& object, std::string_view key)
{
  Json list = take(object, key);
  if (!list.is_array()) {
    throw JsonShapeError(fmt::format("{} must be an array", key));
  }
  std::vector<Descriptor> out;
  for (size_t i = 0; i < list.size(); ++i) {
    out.push_back(Descriptor::from_json(std::move(list[i]), fmt::format("{}[{}]", key, i)));
  }
  return out;
}

// The members manifests and indexes share, around their own list.
template<typename Document> Json document_json(const Document& doc, std::string_view list_key,
                                               const std::vector<Descriptor>& list)
{
  Json out = doc.extra;
  out["schemaVersion"] = 2;
  if (!doc.media_type.empty()) {
    out["mediaType"] = doc.media_type;
  }
  if (!doc.artifact_type.empty()) {
    out["artifactType"] = doc.artifact_type;
  }
  Json items = Json::array();
  for (const auto& d : list) {
    items.push_back(d.to_json());
  }
  out[std::string(list_key)] = std::move(items);
  if (doc.subject) {
    out["subject"] = doc.subject->to_json();
  }
  put_string_map(out, "annotations", doc.annotations);
  return out;
}

template<typename Parse> auto parse_document(std::string_view bytes, std::string_view what, Parse parse)
  -> Result<decltype(parse(std::declval<Json&>()))>
{
  auto json = parse_json(bytes, what);
  if (!json) {
    return fail(json.error());
  }
  if (!json->is_object()) {
    return fail(fmt::format("parse {}: not a JSON object", what));
  }
  try {
    return parse(*json);
  } catch (const JsonShapeError& e) {
    return fail(fmt::format("parse {}: {}", what, e.what()));
  } catch (const Json::exception& e) {
    return fail(fmt::format("parse {}: {}", what, e.what()));
  }
}

} // namespace

Result<ImageManifest> ImageManifest::parse(std::string_view bytes)
{
  return parse_document(bytes, "image manifest", [](Json& json) {
    check_schema_version(json, "image manifest");
    ImageManifest m;
    m.media_type = take_string(json, "mediaType", "");
    if (!m.media_type.empty() && !mediatype::is_manifest(m.media_type)) {
      throw JsonShapeError(fmt::format("mediaType \"{}\" is not an image manifest", m.media_type));
    }
    m.artifact_type = take_string(json, "artifactType", "");
    Json config = take(json, "config");
    if (config.is_null()) {
      throw JsonShapeError("config is missing");
    }
    m.config = Descriptor::from_json(std::move(config), "config");
    m.layers = take_descriptors(json, "layers");
    m.subject = take_subject(json);
    m.annotations = take_string_map(json, "annotations", "");
    m.extra = std::move(json);
    return m;
  });
}

std::string ImageManifest::serialize() const
{
  Json out = document_json(*this, "layers", layers);
  out["config"] = config.to_json();
  return dump_json(out);
}

Result<ImageIndex> ImageIndex::parse(std::string_view bytes)
{
  return parse_document(bytes, "image index", [](Json& json) {
    check_schema_version(json, "image index");
    ImageIndex index;
    index.media_type = take_string(json, "mediaType", "");
    if (!index.media_type.empty() && !mediatype::is_index(index.media_type)) {
      throw JsonShapeError(fmt::format("mediaType \"{}\" is not an image index", index.media_type));
    }
    index.artifact_type = take_string(json, "artifactType", "");
    index.manifests = take_descriptors(json, "manifests");
    index.subject = take_subject(json);
    index.annotations = take_string_map(json, "annotations", "");
    index.extra = std::move(json);
    return index;
  });
}

std::string ImageIndex::serialize() const
{
  return dump_json(document_json(*this, "manifests", manifests));
}

Result<ManifestKind> sniff_manifest(std::string_view bytes)
{
  auto json = parse_json(bytes, "manifest");
  if (!json) {
    return fail(json.error());
  }
  if (!json->is_object()) {
    return fail("parse manifest: not a JSON object");
  }
  auto media_type = json->find("mediaType");
  if (media_type != json->end() && media_type->is_string()) {
    std::string type = media_type->get<std::string>();
    if (mediatype::is_index(type)) {
      return ManifestKind::index;
    }
    if (mediatype::is_manifest(type)) {
      return ManifestKind::manifest;
    }
    return fail(fmt::format("parse manifest: unsupported mediaType \"{}\"", type));
  }
  if (json->contains("manifests")) {
    return ManifestKind::index;
  }
  if (json->contains("config") && json->contains("layers")) {
    return ManifestKind::manifest;
  }
  return fail("parse manifest: neither an image manifest nor an image index");
}

} // namespace kiln::oci
