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

// A base64 PEM (key or certificate) whose first block is der.
bool names_signer(const nlohmann::json& value, std::string_view der)
{
  if (!value.is_string()) {
    return false;
  }
  auto pem = base64_decode(value.get<std::string>());
  auto blocks = pem ? pem_decode_all(*pem) : Result<std::vector<PemBlock>>(fail("bad base64"));
  return blocks && blocks->front().der == der;
}

// Rekor keeps DSSE signatures base64-encoded once (dsse) or, having
// re-encoded the envelope's base64 text, twice (intoto 0.0.2); either binds
// the same signature bytes.
bool holds_signature(const nlohmann::json& value, std::string_view signature)
{
  if (!value.is_string()) {
    return false;
  }
  auto once = base64_decode(value.get<std::string>());
  if (!once) {
    return false;
  }
  if (*once == signature) {
    return true;
  }
  auto twice = base64_decode(*once);
  return twice && *twice == signature;
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
  if (!names_signer(key_content, signer_der)) {
    return fail("Rekor entry names a different key or certificate");
  }
  return {};
}

Result<void> check_dsse_entry(const RekorEntry& entry, std::string_view signature,
                              std::string_view signer_der, std::string_view payload)
{
  auto doc = parse_strict_json(entry.body);
  if (!doc || !doc->is_object()) {
    return fail("Rekor entry body is not a JSON object");
  }
  std::string kind = doc->value("kind", "");
  std::string version = doc->value("apiVersion", "");
  const nlohmann::json* payload_hash = nullptr;
  const nlohmann::json* signatures = nullptr;
  const char* sig_key = nullptr;
  const char* key_key = nullptr;
  try {
    const auto& spec = doc->at("spec");
    if (kind == "dsse" && version == "0.0.1") {
      payload_hash = &spec.at("payloadHash");
      signatures = &spec.at("signatures");
      sig_key = "signature";
      key_key = "verifier";
    } else if (kind == "intoto" && version == "0.0.2") {
      payload_hash = &spec.at("content").at("payloadHash");
      signatures = &spec.at("content").at("envelope").at("signatures");
      sig_key = "sig";
      key_key = "publicKey";
    } else {
      return fail(fmt::format("Rekor entry is {} {}, not dsse 0.0.1 or intoto 0.0.2", kind, version));
    }
    if (payload_hash->at("algorithm") != "sha256" ||
        payload_hash->at("value") != oci::Digest::of(payload).hex()) {
      return fail("Rekor entry's payload hash differs from the statement's");
    }
  } catch (const nlohmann::json::exception&) {
    return fail(fmt::format("Rekor {} entry lacks its payload hash or signatures", kind));
  }
  if (!signatures->is_array()) {
    return fail(fmt::format("Rekor {} entry's signatures are not a list", kind));
  }
  for (const auto& item : *signatures) {
    if (item.is_object() && item.contains(sig_key) && item.contains(key_key) &&
        holds_signature(item[sig_key], signature) && names_signer(item[key_key], signer_der)) {
      return {};
    }
  }
  return fail("Rekor entry does not hold this signature by this certificate");
}

} // namespace kiln::signer
