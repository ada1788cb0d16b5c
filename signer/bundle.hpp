#pragma once

// Sigstore bundle v0.3 for a key-based DSSE signature (no transparency log),
// and the OCI 1.1 referrer manifest that attaches it to an image:
//
//   {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
//    "verificationMaterial":{"publicKey":{"hint":"<b64 sha256(SPKI)>"}},
//    "dsseEnvelope":{"payload":"<b64>","payloadType":"application/vnd.in-toto+json","signatures":[{"sig":"<b64>"}]}}

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "signer/keys.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::signer {

inline constexpr std::string_view k_bundle_media_type = "application/vnd.dev.sigstore.bundle.v0.3+json";

Result<std::string> write_bundle(const PrivateKey& key, std::string_view statement);

struct Subject
{
  std::string media_type;
  oci::Digest digest;
  uint64_t size = 0;
};

// The referrer manifest for a bundle blob; its config is the 2-byte "{}".
std::string write_bundle_referrer(const Subject& subject, std::string_view bundle,
                                  std::string_view predicate_type, std::string_view created);

} // namespace kiln::signer
