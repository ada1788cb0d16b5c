#pragma once

// The simple-signing payload, the signed blob of a `.sig` layer:
//
//   {"critical":{"identity":{"docker-reference":"<host/path:tag>"},
//                "image":{"docker-manifest-digest":"sha256:<hex>"},
//                "type":"cosign container image signature"},
//    "optional":null | {<string keys>: <values>}}
//
// Written compact in cosign's key order; read with containers/image's strict
// rules (exact key sets, no duplicates).

#include "base/result.hpp"
#include "oci/digest.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kiln::signer {

inline constexpr std::string_view k_simple_signing_type = "cosign container image signature";
inline constexpr std::string_view k_simple_signing_media_type =
    "application/vnd.dev.cosign.simplesigning.v1+json";

struct Payload
{
  std::string docker_reference;
  oci::Digest manifest_digest;
  nlohmann::json optional; // null or an object
};

// optional: null, or an object (cosign's -a annotations, or containers/image's creator/timestamp).
std::string write_payload(std::string_view docker_reference, const oci::Digest& manifest_digest,
                          const nlohmann::json& optional = nullptr);
Result<Payload> parse_payload(std::string_view bytes);

// How the signed docker-reference must relate to the image reference
// (containers/image's signedIdentity).
enum class IdentityMatch {
  repository,           // same repository, tags ignored
  exact,                // identical, both tagged
  repo_digest_or_exact, // tagged image: identical; image by digest: same repository
};

// Docker-normalised "host/path" and tag (empty when none) of a reference
// without digest: "ubuntu:22.04" -> ("docker.io/library/ubuntu", "22.04").
struct NamedReference
{
  std::string repository;
  std::string tag;
  bool by_digest = false;
};
Result<NamedReference> normalise_reference(std::string_view reference);

// "host/path" of "host/path:tag" (an in-toto subject name).
std::string repository_of(std::string_view identity);

Result<void> match_identity(std::string_view signed_reference, std::string_view image_reference,
                            IdentityMatch match);

} // namespace kiln::signer
