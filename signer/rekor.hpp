#pragma once

// Rekor's signed entry timestamp (SET), the `dev.sigstore.cosign/bundle`
// annotation, verified offline:
//
//   {"SignedEntryTimestamp":"<b64 DER ECDSA>",
//    "Payload":{"body":"<b64 entry>","integratedTime":N,"logIndex":N,"logID":"<hex sha256(Rekor SPKI)>"}}
//
// The SET signs the RFC 8785 canonical form of Payload. A hashedrekord 0.0.1
// body binds the signature, the signer's key or certificate and the payload hash:
//   {"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"<hex>"}},
//    "signature":{"content":"<b64 sig>","publicKey":{"content":"<b64 PEM key or certificate>"}}}}

#include "base/result.hpp"
#include "signer/keys.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::signer {

struct RekorEntry
{
  std::string body; // decoded
  int64_t integrated_time = 0;
  int64_t log_index = 0;
  std::string log_id;
  std::string verified_by; // the Rekor key's description
};

// The SET verifies with the Rekor key whose sha256(SPKI) is logID.
Result<RekorEntry> verify_rekor_set(std::string_view set_json, const std::vector<PublicKey>& rekor_keys);

// The entry's body is a hashedrekord of exactly this signature, signer DER
// (SPKI of a key, or the leaf certificate) and payload.
Result<void> check_hashedrekord(const RekorEntry& entry, std::string_view signature,
                                std::string_view signer_der, std::string_view payload);

// The entry is a dsse 0.0.1 or intoto 0.0.2 record of this DSSE signature by
// signer_der (a certificate) over payload (the statement).
Result<void> check_dsse_entry(const RekorEntry& entry, std::string_view signature,
                              std::string_view signer_der, std::string_view payload);

// RFC 8785 canonical JSON of the SET payload (sorted keys, no whitespace).
std::string canonical_set_payload(std::string_view body_b64, int64_t integrated_time, std::string_view log_id,
                                  int64_t log_index);

} // namespace kiln::signer
