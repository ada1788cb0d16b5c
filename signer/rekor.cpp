#include "signer/rekor.hpp"

#include "base/strings.hpp"
#include "oci/digest.hpp"
#include "signer/pem.hpp"
#include "signer/strict_json.hpp"

#include <fmt/core.h>
#include <openssl/evp.h>

namespace kiln::signer {

namespace {

std::string log_id_of(const PublicKey& key)
{
  return oci::Digest::of(key.spki_der()).hex();
}

} // namespace

std::string canonical_set_payload(std::string_view body_b64, int64_t integrated_time, std::string_view log_id,
                                  int64_t log_index)
{
  // Only strings of base64/hex characters and integers occur here, so
  // sorting the four keys is all RFC 8785 asks for.
  return fmt::format(R"({{"body":{},"integratedTime":{},"logID":{},"logIndex":{}}})", json_quote(body_b64),
                     integrated_time, json_quote(log_id), log_index);
}

Result<RekorEntry> verify_rekor_set(std::string_view set_json, const std::vector<PublicKey>& rekor_keys)
{
  auto doc = parse_strict_json(set_json);
  if (!doc) {
    return fail("Rekor bundle: " + doc.error());
  }
  std::string body_b64, set_b64;
  RekorEntry entry;
  try {
    set_b64 = doc->at("SignedEntryTimestamp").get<std::string>();
    const auto& payload = doc->at("Payload");
    body_b64 = payload.at("body").get<std::string>();
    entry.integrated_time = payload.at("integratedTime").get<int64_t>();
    entry.log_index = payload.at("logIndex").get<int64_t>();
    entry.log_id = payload.at("logID").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return fail("Rekor bundle lacks SignedEntryTimestamp or a Payload field");
  }
  auto set = base64_decode(set_b64);
  auto body = base64_decode(body_b64);
  if (!set || !body) {
    return fail("Rekor bundle has invalid base64");
  }
  entry.body = std::move(*body);
  std::string signed_bytes =
      canonical_set_payload(body_b64, entry.integrated_time, entry.log_id, entry.log_index);
  for (const auto& key : rekor_keys) {
    if (log_id_of(key) != entry.log_id) {
      continue;
    }
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
      return fail(fmt::format("Rekor key {} is not an ECDSA key", key.describe()));
    }
    if (!key.verify(signed_bytes, *set)) {
      return fail(fmt::format("Rekor SET does not verify with {}", key.describe()));
    }
    entry.verified_by = key.describe();
    return entry;
  }
  return fail(fmt::format("no trusted Rekor key has log id {}", entry.log_id));
}

Result<void> check_hashedrekord(const RekorEntry& entry, std::string_view signature,
                                std::string_view signer_der, std::string_view payload)
{
  auto doc = parse_strict_json(entry.body);
  if (!doc) {
    return fail("Rekor entry body: " + doc.error());
  }
  std::string kind, version, algorithm, hash, content, key_content;
  try {
    kind = doc->at("kind").get<std::string>();
    version = doc->at("apiVersion").get<std::string>();
    const auto& spec = doc->at("spec");
    algorithm = spec.at("data").at("hash").at("algorithm").get<std::string>();
    hash = spec.at("data").at("hash").at("value").get<std::string>();
    content = spec.at("signature").at("content").get<std::string>();
    key_content = spec.at("signature").at("publicKey").at("content").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return fail("Rekor entry is not a hashedrekord 0.0.1 with hash, signature and public key");
  }
  if (kind != "hashedrekord" || version != "0.0.1") {
    return fail(fmt::format("Rekor entry is {} {}, not hashedrekord 0.0.1", kind, version));
  }
  if (algorithm != "sha256" || hash != oci::Digest::of(payload).hex()) {
    return fail("Rekor entry's payload hash differs from the payload's");
  }
  auto logged_signature = base64_decode(content);
  if (!logged_signature || *logged_signature != signature) {
    return fail("Rekor entry holds a different signature");
  }
  auto pem = base64_decode(key_content);
  auto blocks = pem ? pem_decode_all(*pem) : Result<std::vector<PemBlock>>(fail("bad base64"));
  if (!blocks || blocks->front().der != signer_der) {
    return fail("Rekor entry names a different key or certificate");
  }
  return {};
}

} // namespace kiln::signer
