#include "signer/dsse.hpp"

#include "base/strings.hpp"
#include "signer/strict_json.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace kiln::signer {

std::string pae(std::string_view payload_type, std::string_view payload)
{
  return fmt::format("DSSEv1 {} {} {} {}", payload_type.size(), payload_type, payload.size(), payload);
}

Result<std::string> sign_envelope(const PrivateKey& key, std::string_view payload_type,
                                  std::string_view payload)
{
  auto signature = key.sign(pae(payload_type, payload));
  if (!signature) {
    return fail(signature.error());
  }
  return fmt::format(R"({{"payloadType":{},"payload":"{}","signatures":[{{"keyid":"","sig":"{}"}}]}})",
                     json_quote(payload_type), base64_encode(payload), base64_encode(*signature));
}

Result<Envelope> parse_envelope(std::string_view json)
{
  auto doc = parse_strict_json(json);
  if (!doc) {
    return fail("DSSE envelope: " + doc.error());
  }
  if (auto ok = check_keys(*doc, "DSSE envelope", {"payloadType", "payload", "signatures"}); !ok) {
    return fail(ok.error());
  }
  if (!(*doc)["payloadType"].is_string() || !(*doc)["payload"].is_string() ||
      !(*doc)["signatures"].is_array()) {
    return fail("DSSE envelope: a field has the wrong type");
  }
  Envelope envelope;
  envelope.payload_type = (*doc)["payloadType"].get<std::string>();
  auto payload = base64_decode((*doc)["payload"].get<std::string>());
  if (!payload) {
    return fail("DSSE envelope: payload is not base64");
  }
  envelope.payload = std::move(*payload);
  for (const auto& entry : (*doc)["signatures"]) {
    if (auto ok = check_keys(entry, "DSSE signature", {"sig"}, {"keyid"}); !ok) {
      return fail(ok.error());
    }
    auto sig = entry["sig"].is_string() ? base64_decode(entry["sig"].get<std::string>()) : std::nullopt;
    if (!sig) {
      return fail("DSSE envelope: a signature is not base64");
    }
    envelope.signatures.push_back(std::move(*sig));
  }
  if (envelope.signatures.empty()) {
    return fail("DSSE envelope has no signature");
  }
  return envelope;
}

Result<std::string> verify_envelope(const Envelope& envelope, const PublicKey& key)
{
  if (envelope.payload_type != k_in_toto_payload_type) {
    return fail(
        fmt::format("DSSE payloadType is \"{}\", not \"{}\"", envelope.payload_type, k_in_toto_payload_type));
  }
  std::string signed_bytes = pae(envelope.payload_type, envelope.payload);
  for (const auto& signature : envelope.signatures) {
    if (key.verify(signed_bytes, signature)) {
      return signature;
    }
  }
  return fail(fmt::format("no DSSE signature verifies with {}", key.describe()));
}

} // namespace kiln::signer
