#pragma once

// Verification of attestations (`.att` layers): the DSSE envelope's
// signature by a trusted key, a subject whose sha256 is the image digest,
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

// predicate_type: the URI to require, or nullopt for any.
Result<VerifiedAttestation> verify_attestation(const SignatureEvidence& layer,
                                               const std::vector<PublicKey>& keys, const oci::Digest& image,
                                               const std::optional<std::string>& predicate_type);

} // namespace kiln::signer
