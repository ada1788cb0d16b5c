#include "signer/attestation.hpp"

#include "signer/attachment.hpp"
#include "signer/dsse.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace kiln::signer {

Result<VerifiedAttestation> verify_attestation(const SignatureEvidence& layer,
                                               const std::vector<PublicKey>& keys, const oci::Digest& image,
                                               const std::optional<std::string>& predicate_type)
{
  if (layer.media_type != k_dsse_media_type) {
    return fail(fmt::format("not an attestation (media type {})", layer.media_type));
  }
  auto envelope = parse_envelope(layer.payload);
  if (!envelope) {
    return fail(envelope.error());
  }
  std::string signer;
  std::string last_error = "no trusted key";
  for (const auto& key : keys) {
    auto ok = verify_envelope(*envelope, key);
    if (ok) {
      signer = key.describe();
      break;
    }
    last_error = ok.error();
  }
  if (signer.empty()) {
    return fail(last_error);
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
  return VerifiedAttestation{signer, std::move(*statement)};
}

} // namespace kiln::signer
