#pragma once

// Image manifest and image index (OCI image-spec v1.1; Docker schema 2 and
// manifest lists are read too, and written back as they came).
//   manifest ::= { "schemaVersion": 2, "mediaType"?: string, "artifactType"?: string,
//                  "config": Descriptor, "layers": [Descriptor], "subject"?: Descriptor,
//                  "annotations"?: {string: string} }
//   index    ::= { "schemaVersion": 2, "mediaType"?: string, "artifactType"?: string,
//                  "manifests": [Descriptor], "subject"?: Descriptor, "annotations"?: {…} }

#include <optional>
#include <string>
#include <vector>

#include "oci/descriptor.hpp"

namespace kiln::oci {

struct ImageManifest
{
  std::string media_type; // may be empty in a manifest written by an old tool
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
  Json extra = Json::object();

  static Result<ImageManifest> parse(std::string_view bytes);
  std::string serialize() const;
};

struct ImageIndex
{
  std::string media_type;
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
  Json extra = Json::object();

  static Result<ImageIndex> parse(std::string_view bytes);
  std::string serialize() const;
};

// What a manifest document is, judged by its mediaType or, when that is
// absent, by its members.
enum class ManifestKind { manifest, index };
Result<ManifestKind> sniff_manifest(std::string_view bytes);

} // namespace kiln::oci
