#pragma once

// An OCI content descriptor and platform (image-spec v1.1 descriptor.md):
//   { "mediaType": string, "digest": digest, "size": int64,
//     "urls"?: [string], "annotations"?: {string: string},
//     "artifactType"?: string, "data"?: base64, "platform"?: Platform }
// Unknown members are kept in `extra` and written back unchanged.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.hpp"
#include "oci/json.hpp"

namespace kiln::oci {

inline constexpr std::string_view k_annotation_ref_name = "org.opencontainers.image.ref.name";
inline constexpr std::string_view k_annotation_created = "org.opencontainers.image.created";
inline constexpr std::string_view k_annotation_base_name = "org.opencontainers.image.base.name";
inline constexpr std::string_view k_annotation_base_digest = "org.opencontainers.image.base.digest";

struct Platform
{
  std::string architecture;
  std::string os;
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;
  Json extra = Json::object();

  // "linux/amd64", "linux/arm64/v8"
  std::string str() const;
  static Result<Platform> parse(std::string_view text);
  // The platform kiln runs on (linux and the machine's architecture).
  static Platform host();
  bool matches(const Platform& wanted) const;

  static Platform from_json(Json value, std::string_view where);
  Json to_json() const;
};

struct Descriptor
{
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::string artifact_type;
  std::optional<Platform> platform;
  Json extra = Json::object();

  static Descriptor from_json(Json value, std::string_view where);
  Json to_json() const;
};

} // namespace kiln::oci
