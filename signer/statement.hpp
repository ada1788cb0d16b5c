#pragma once

// in-toto Statement v1, the DSSE payload of an attestation, with exactly
// the four keys protobuf-based readers (cosign >= 3.0.6, sigstore-go) accept:
//
//   {"_type":"https://in-toto.io/Statement/v1",
//    "subject":[{"name":"<repository>","digest":{"sha256":"<hex>"}}],
//    "predicateType":"<URI>","predicate":{...}}

#include "base/result.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::signer {

inline constexpr std::string_view k_statement_v1 = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view k_statement_v01 = "https://in-toto.io/Statement/v0.1";
inline constexpr std::string_view k_vuln_predicate = "https://cosign.sigstore.dev/attestation/vuln/v1";
inline constexpr std::string_view k_custom_predicate = "https://cosign.sigstore.dev/attestation/v1";
inline constexpr std::string_view k_cosign_sign_predicate = "https://sigstore.dev/cosign/sign/v1";

// `cosign attest --type X` names -> predicate URIs; an absolute URI is used verbatim.
Result<std::string> predicate_type_uri(std::string_view type);

// The predicate for --type from a file's text: custom wraps the text as
// {"Data","Timestamp"}, spdx takes the text as a JSON string, the others
// require a JSON object. now is the RFC 3339 time for custom.
Result<nlohmann::ordered_json> predicate_from_file(std::string_view type, std::string_view text,
                                                   std::string_view now);

std::string write_statement(std::string_view subject_name, const oci::Digest& subject_digest,
                            std::string_view predicate_type, const nlohmann::ordered_json& predicate);

struct Statement
{
  std::string predicate_type;
  std::vector<std::string> subject_sha256; // hex digests of the subjects
  nlohmann::ordered_json predicate;
};
Result<Statement> parse_statement(std::string_view bytes);

// Go time.Time's RFC 3339 grammar: date T time, optional fraction, Z or offset.
bool is_rfc3339(std::string_view text);

} // namespace kiln::signer
