#pragma once

// Verification of attestations (`.att` layers): the DSSE envelope's
// signature by a trusted key or certificate, a subject whose sha256 is the image digest,
// and the predicate type.

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "signer/keys.hpp"
#include "signer/statement.hpp"
#include "signer/verify.hpp"

#include <optional>
#include <string>
#include <vector>

namespace kiln::signer {

struct VerifiedAttestation
{
  std::string signer;
  Statement statement;
};

// predicate_type: the URI to require, or nullopt for any. A certificate-signed
// (keyless) attestation is checked like a signature: chain, identity and
// issuer at the Rekor SET's integratedTime (now without Rekor keys), and a
// dsse or intoto Rekor entry that holds this signature and certificate.
Result<VerifiedAttestation> verify_attestation(const SignatureEvidence& layer, const TrustMaterial& trust,
                                               const oci::Digest& image,
                                               const std::optional<std::string>& predicate_type, int64_t now);
// Key-based only.
Result<VerifiedAttestation> verify_attestation(const SignatureEvidence& layer,
                                               const std::vector<PublicKey>& keys, const oci::Digest& image,
                                               const std::optional<std::string>& predicate_type);

} // namespace kiln::signer
