#include "signer/bundle.hpp"

#include "base/strings.hpp"
#include "signer/dsse.hpp"
#include "signer/strict_json.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace kiln::signer {

Result<std::string> write_bundle(const PrivateKey& key, std::string_view statement)
{
  auto signature = key.sign(pae(k_in_toto_payload_type, statement));
  if (!signature) {
    return fail(signature.error());
  }
  return fmt::format(
      R"({{"mediaType":"{}","verificationMaterial":{{"publicKey":{{"hint":"{}"}}}},)"
      R"("dsseEnvelope":{{"payload":"{}","payloadType":"{}","signatures":[{{"sig":"{}"}}]}}}})",
      k_bundle_media_type, key.public_key().hint(), base64_encode(statement), k_in_toto_payload_type,
      base64_encode(*signature));
}

std::string write_bundle_referrer(const Subject& subject, std::string_view bundle,
                                  std::string_view predicate_type, std::string_view created)
{
  return fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"{0}",)"
      R"("config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{1}"}},)"
      R"("layers":[{{"mediaType":"{0}","size":{2},"digest":"{3}"}}],)"
      R"("subject":{{"mediaType":{4},"size":{5},"digest":"{6}"}},)"
      R"("annotations":{{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":{7},)"
      R"("org.opencontainers.image.created":{8}}}}})",
      k_bundle_media_type, oci::Digest::of("{}").str(), bundle.size(), oci::Digest::of(bundle).str(),
      json_quote(subject.media_type), subject.size, subject.digest.str(), json_quote(predicate_type),
      json_quote(created));
}

} // namespace kiln::signer
