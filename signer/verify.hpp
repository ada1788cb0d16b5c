#pragma once

// Verification of cosign image signatures (`.sig` layers), offline, with
// containers/image's sigstoreSigned semantics: the signature over the raw
// payload bytes by a trusted key or certificate, the Rekor SET when Rekor
// keys are trusted, the payload's manifest digest, and optionally its
// identity and annotations. An image is accepted when any signature is.

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "signer/certificate.hpp"
#include "signer/keys.hpp"
#include "signer/payload.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln::signer {

// Certificate-based trust (Fulcio keyless or BYO-PKI).
struct CertificateTrust
{
  std::vector<Certificate> roots;
  std::vector<Certificate> intermediates; // untrusted, added to the chain annotation's
  std::string identity;                   // e-mail or URI SAN, exact; empty = any
  std::string hostname;                   // DNS SAN, exact; empty = not checked
  std::string issuer;                     // OIDC issuer extension, exact; empty = not checked
};

struct TrustMaterial
{
  std::vector<PublicKey> keys;
  std::optional<CertificateTrust> certificates;
  // When not empty every signature needs a Rekor SET by one of them, and a
  // certificate chain is checked at the SET's integratedTime (else now).
  std::vector<PublicKey> rekor_keys;
};

struct SignatureClaims
{
  oci::Digest manifest_digest;
  std::optional<std::string> image_reference; // checked against docker-reference when set
  IdentityMatch match = IdentityMatch::repository;
  std::map<std::string, std::string> annotations; // must be in payload optional (cosign -a)
};

// One signature as stored: a `.sig` layer's media type, blob and annotations.
struct SignatureEvidence
{
  std::string media_type;
  std::string payload;
  std::map<std::string, std::string> annotations;
};

struct VerifiedSignature
{
  std::string signer;           // "ECDSA P-256 key SHA256:..." or "certificate for <identity> (issuer <url>)"
  std::string docker_reference; // from the payload
  std::optional<int64_t> integrated_time;
};

// A certificate annotation's leaf, checked: it chains (with the chain
// annotation's and trust's intermediates) to trust's roots at unix time at,
// and carries trust's identity, host name and issuer.
struct CertifiedKey
{
  PublicKey key;
  std::string der; // the leaf certificate
  std::string description;
};
Result<CertifiedKey> verify_certificate(const std::map<std::string, std::string>& annotations,
                                        const CertificateTrust& trust, int64_t at);

Result<VerifiedSignature> verify_signature(const SignatureEvidence& evidence, const TrustMaterial& trust,
                                           const SignatureClaims& claims, int64_t now);

struct VerifyReport
{
  std::vector<VerifiedSignature> accepted;
  std::vector<std::string> rejected; // one reason per rejected signature
  bool ok() const { return !accepted.empty(); }
  // The reasons joined for a one-line message.
  std::string why_rejected() const;
};

VerifyReport verify_signatures(const std::vector<SignatureEvidence>& evidence, const TrustMaterial& trust,
                               const SignatureClaims& claims, int64_t now);

} // namespace kiln::signer
