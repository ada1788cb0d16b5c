#include "signer/attestation.hpp"

#include "signer/attachment.hpp"
#include "signer/dsse.hpp"
#include "signer/rekor.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace kiln::signer {

namespace {

struct EnvelopeSigner
{
  std::string description;
  std::string signature; // the DSSE signature that verified
  std::string der;       // the certificate, for Rekor binding; empty for keys
};

Result<EnvelopeSigner> envelope_signer(const SignatureEvidence& layer, const Envelope& envelope,
                                       const TrustMaterial& trust, const std::optional<RekorEntry>& entry,
                                       int64_t now)
{
  std::string last_error = "no trusted key or certificate authority";
  if (layer.annotations.contains(std::string(k_certificate_annotation)) && trust.certificates) {
    auto certified =
        verify_certificate(layer.annotations, *trust.certificates, entry ? entry->integrated_time : now);
    if (certified) {
      auto signature = verify_envelope(envelope, certified->key);
      if (signature) {
        return EnvelopeSigner{certified->description, *signature, certified->der};
      }
      last_error = signature.error();
    } else {
      last_error = certified.error();
    }
  }
  for (const auto& key : trust.keys) {
    auto signature = verify_envelope(envelope, key);
    if (signature) {
      return EnvelopeSigner{key.describe(), *signature, key.spki_der()};
    }
    last_error = signature.error();
  }
  return fail(last_error);
}

} // namespace

Result<VerifiedAttestation> verify_attestation(const SignatureEvidence& layer, const TrustMaterial& trust,
                                               const oci::Digest& image,
                                               const std::optional<std::string>& predicate_type, int64_t now)
{
  if (layer.media_type != k_dsse_media_type) {
    return fail(fmt::format("not an attestation (media type {})", layer.media_type));
  }
  auto envelope = parse_envelope(layer.payload);
  if (!envelope) {
    return fail(envelope.error());
  }
  std::optional<RekorEntry> entry;
  if (!trust.rekor_keys.empty()) {
    auto set = layer.annotations.find(std::string(k_rekor_bundle_annotation));
    if (set == layer.annotations.end()) {
      return fail("no Rekor SET (dev.sigstore.cosign/bundle) though Rekor keys are trusted");
    }
    auto verified = verify_rekor_set(set->second, trust.rekor_keys);
    if (!verified) {
      return fail(verified.error());
    }
    entry = std::move(*verified);
  }
  auto signer = envelope_signer(layer, *envelope, trust, entry, now);
  if (!signer) {
    return fail(signer.error());
  }
  if (entry) {
    if (auto ok = check_dsse_entry(*entry, signer->signature, signer->der, envelope->payload); !ok) {
      return fail(ok.error());
    }
  }
  auto statement = parse_statement(envelope->payload);
  if (!statement) {
    return fail(statement.error());
  }
  if (std::find(statement->subject_sha256.begin(), statement->subject_sha256.end(), image.hex()) ==
      statement->subject_sha256.end()) {
    return fail(fmt::format("no subject of the statement has digest {}", image.str()));
  }
  if (predicate_type && statement->predicate_type != *predicate_type) {
    return fail(fmt::format("predicate type is {}, not {}", statement->predicate_type, *predicate_type));
  }
  auto annotated = layer.annotations.find(std::string(k_predicate_type_annotation));
  if (annotated != layer.annotations.end() && annotated->second != statement->predicate_type) {
    return fail("the layer's predicateType annotation differs from the statement's");
  }
  return VerifiedAttestation{signer->description, std::move(*statement)};
}

Result<VerifiedAttestation> verify_attestation(const SignatureEvidence& layer,
                                               const std::vector<PublicKey>& keys, const oci::Digest& image,
                                               const std::optional<std::string>& predicate_type)
{
  TrustMaterial trust;
  trust.keys = keys;
  return verify_attestation(layer, trust, image, predicate_type, 0);
}

} // namespace kiln::signer
