#pragma once

// DSSE envelopes (the `.att` layer blob and a bundle's dsseEnvelope):
//
//   {"payloadType":"application/vnd.in-toto+json","payload":"<b64>","signatures":[{"keyid":"","sig":"<b64
//   DER>"}]}
//
// Signatures cover PAE(payloadType, payload), not the JSON:
//   "DSSEv1" SP len(type) SP type SP len(payload) SP payload   (lengths in ASCII decimal)

#include "base/result.hpp"
#include "signer/keys.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::signer {

inline constexpr std::string_view k_in_toto_payload_type = "application/vnd.in-toto+json";
inline constexpr std::string_view k_dsse_media_type = "application/vnd.dsse.envelope.v1+json";

struct Envelope
{
  std::string payload_type;
  std::string payload;                 // decoded
  std::vector<std::string> signatures; // decoded DER
};

std::string pae(std::string_view payload_type, std::string_view payload);
// A signed envelope, compact, with an empty keyid.
Result<std::string> sign_envelope(const PrivateKey& key, std::string_view payload_type,
                                  std::string_view payload);
Result<Envelope> parse_envelope(std::string_view json);
// The first signature that verifies with key.
Result<std::string> verify_envelope(const Envelope& envelope, const PublicKey& key);

} // namespace kiln::signer
