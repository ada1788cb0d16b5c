#include "signer/verify.hpp"

#include "base/strings.hpp"
#include "signer/attachment.hpp"
#include "signer/rekor.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace kiln::signer {

namespace {

struct Signer
{
  PublicKey key;
  std::string der; // what a hashedrekord entry must name
  std::string description;
};

const std::string* annotation(const SignatureEvidence& evidence, std::string_view key)
{
  auto it = evidence.annotations.find(std::string(key));
  return it == evidence.annotations.end() ? nullptr : &it->second;
}

bool contains(const std::vector<std::string>& values, const std::string& value)
{
  return std::find(values.begin(), values.end(), value) != values.end();
}

} // namespace

Result<CertifiedKey> verify_certificate(const std::map<std::string, std::string>& annotations,
                                        const CertificateTrust& trust, int64_t at)
{
  auto leaf_pem = annotations.find(std::string(k_certificate_annotation));
  if (leaf_pem == annotations.end()) {
    return fail("no certificate annotation");
  }
  auto leaves = Certificate::from_pem_all(leaf_pem->second);
  if (!leaves || leaves->size() != 1) {
    return fail("certificate annotation does not hold exactly one certificate");
  }
  const Certificate& leaf = leaves->front();
  std::vector<Certificate> intermediates = trust.intermediates;
  if (auto chain = annotations.find(std::string(k_chain_annotation)); chain != annotations.end()) {
    auto certs = Certificate::from_pem_all(chain->second);
    if (!certs) {
      return fail("chain annotation: " + certs.error());
    }
    intermediates.insert(intermediates.end(), certs->begin(), certs->end());
  }
  if (auto ok = verify_chain(leaf, intermediates, trust.roots, at); !ok) {
    return fail(ok.error());
  }
  std::vector<std::string> names = leaf.emails();
  for (auto& uri : leaf.uris()) {
    names.push_back(std::move(uri));
  }
  if (!trust.identity.empty() && !contains(names, trust.identity)) {
    return fail(fmt::format("certificate identity is {}, not \"{}\"",
                            names.empty() ? "absent" : "\"" + names.front() + "\"", trust.identity));
  }
  if (!trust.hostname.empty() && !contains(leaf.dns_names(), trust.hostname)) {
    return fail(fmt::format("certificate lacks host name \"{}\"", trust.hostname));
  }
  auto issuer = leaf.oidc_issuer();
  if (!issuer) {
    return fail(issuer.error());
  }
  if (!trust.issuer.empty() && issuer->value_or("") != trust.issuer) {
    return fail(
        fmt::format("certificate issuer is \"{}\", not \"{}\"", issuer->value_or("(none)"), trust.issuer));
  }
  auto key = leaf.public_key();
  if (!key) {
    return fail(key.error());
  }
  std::string who = names.empty() ? leaf.subject() : names.front();
  std::string description = issuer->has_value() ? fmt::format("certificate for {} (issuer {})", who, **issuer)
                                                : fmt::format("certificate for {}", who);
  return CertifiedKey{*key, leaf.der(), description};
}

namespace {

Result<Signer> certificate_signer(const SignatureEvidence& evidence, const CertificateTrust& trust,
                                  const std::string& signature, int64_t at)
{
  auto certified = verify_certificate(evidence.annotations, trust, at);
  if (!certified) {
    return fail(certified.error());
  }
  if (!certified->key.verify(evidence.payload, signature)) {
    return fail("signature does not verify with the certificate's key");
  }
  return Signer{certified->key, certified->der, certified->description};
}

Result<Signer> key_signer(const SignatureEvidence& evidence, const TrustMaterial& trust,
                          const std::string& signature)
{
  for (const auto& key : trust.keys) {
    if (key.verify(evidence.payload, signature)) {
      return Signer{key, key.spki_der(), key.describe()};
    }
  }
  if (trust.keys.size() == 1) {
    return fail(fmt::format("signature does not verify with {}", trust.keys.front().describe()));
  }
  return fail(fmt::format("signature does not verify with any of the {} trusted keys", trust.keys.size()));
}

Result<void> check_claims(const Payload& payload, const SignatureClaims& claims)
{
  if (payload.manifest_digest != claims.manifest_digest) {
    return fail(fmt::format("payload is for {}, not the manifest {}", payload.manifest_digest.str(),
                            claims.manifest_digest.str()));
  }
  if (claims.image_reference) {
    if (auto ok = match_identity(payload.docker_reference, *claims.image_reference, claims.match); !ok) {
      return fail(ok.error());
    }
  }
  for (const auto& [key, value] : claims.annotations) {
    const auto& optional = payload.optional;
    if (!optional.is_object() || !optional.contains(key) || !optional[key].is_string() ||
        optional[key].get<std::string>() != value) {
      return fail(fmt::format("payload lacks annotation {}={}", key, value));
    }
  }
  return {};
}

} // namespace

Result<VerifiedSignature> verify_signature(const SignatureEvidence& evidence, const TrustMaterial& trust,
                                           const SignatureClaims& claims, int64_t now)
{
  if (evidence.media_type != k_simple_signing_media_type) {
    return fail(fmt::format("not a signature (media type {})", evidence.media_type));
  }
  const std::string* signature_b64 = annotation(evidence, k_signature_annotation);
  if (signature_b64 == nullptr) {
    return fail(fmt::format("layer lacks the {} annotation", k_signature_annotation));
  }
  auto signature = base64_decode(*signature_b64);
  if (!signature) {
    return fail("signature annotation is not base64");
  }
  std::optional<RekorEntry> entry;
  if (!trust.rekor_keys.empty()) {
    const std::string* set = annotation(evidence, k_rekor_bundle_annotation);
    if (set == nullptr) {
      return fail("no Rekor SET (dev.sigstore.cosign/bundle) though Rekor keys are trusted");
    }
    auto verified = verify_rekor_set(*set, trust.rekor_keys);
    if (!verified) {
      return fail(verified.error());
    }
    entry = std::move(*verified);
  }

  Result<Signer> signer = fail("no trusted key and no trusted certificate authority");
  if (annotation(evidence, k_certificate_annotation) != nullptr && trust.certificates) {
    signer =
        certificate_signer(evidence, *trust.certificates, *signature, entry ? entry->integrated_time : now);
    if (!signer && !trust.keys.empty()) {
      signer = key_signer(evidence, trust, *signature);
    }
  } else if (!trust.keys.empty()) {
    signer = key_signer(evidence, trust, *signature);
  } else if (trust.certificates) {
    signer = fail("signature has no certificate");
  }
  if (!signer) {
    return fail(signer.error());
  }
  if (entry) {
    if (auto ok = check_hashedrekord(*entry, *signature, signer->der, evidence.payload); !ok) {
      return fail(ok.error());
    }
  }
  auto payload = parse_payload(evidence.payload);
  if (!payload) {
    return fail(payload.error());
  }
  if (auto ok = check_claims(*payload, claims); !ok) {
    return fail(ok.error());
  }
  VerifiedSignature out{signer->description, payload->docker_reference, std::nullopt};
  if (entry) {
    out.integrated_time = entry->integrated_time;
  }
  return out;
}

std::string VerifyReport::why_rejected() const
{
  if (rejected.empty()) {
    return "no signature";
  }
  if (rejected.size() == 1) {
    return rejected.front();
  }
  std::string out;
  for (size_t i = 0; i < rejected.size(); ++i) {
    out += fmt::format("{}signature {}: {}", i == 0 ? "" : "; ", i + 1, rejected[i]);
  }
  return out;
}

VerifyReport verify_signatures(const std::vector<SignatureEvidence>& evidence, const TrustMaterial& trust,
                               const SignatureClaims& claims, int64_t now)
{
  VerifyReport report;
  for (const auto& item : evidence) {
    auto verified = verify_signature(item, trust, claims, now);
    if (verified) {
      report.accepted.push_back(std::move(*verified));
    } else {
      report.rejected.push_back(verified.error());
    }
  }
  return report;
}

} // namespace kiln::signer
