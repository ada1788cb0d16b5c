#pragma once

// Sigstore's trusted root (TUF target trusted_root.json), the subset needed
// offline: certificate authorities (Fulcio chains) and transparency log keys.
//
//   {"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1",
//    "tlogs":[{"publicKey":{"rawBytes":"<b64
//    SPKI>","keyDetails":..,"validFor":{..}},"logId":{"keyId":"<b64>"}}],
//    "certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"<b64 DER>"}...]},"validFor":{..}}],
//    ...}

#include "base/result.hpp"
#include "signer/certificate.hpp"
#include "signer/keys.hpp"

#include <string_view>
#include <vector>

namespace kiln::signer {

struct TrustedRoot
{
  std::vector<Certificate> ca_certificates; // every certificate of every authority's chain
  std::vector<PublicKey> rekor_keys;
};

Result<TrustedRoot> parse_trusted_root(std::string_view json);

} // namespace kiln::signer
