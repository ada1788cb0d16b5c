#include "signer/attestation.hpp"
#include "tests/unit/signer/memory_source.hpp"

#include <doctest/doctest.h>

using namespace kiln::signer;
using kiln::oci::Digest;

TEST_CASE("attestation checks: key, subject digest, predicate type, envelope shape")
{
  PrivateKey key = PrivateKey::generate_p256();
  Digest image = Digest::of("image");
  std::string statement =
      write_statement("reg/app", image, "https://cyclonedx.org/bom", nlohmann::ordered_json::object());
  std::string envelope = *sign_envelope(key, k_in_toto_payload_type, statement);
  SignatureEvidence layer{
      std::string(k_dsse_media_type),
      envelope,
      {{"dev.cosignproject.cosign/signature", ""}, {"predicateType", "https://cyclonedx.org/bom"}}};
  std::vector<PublicKey> keys = {key.public_key()};

  auto ok = verify_attestation(layer, keys, image, std::string("https://cyclonedx.org/bom"));
  REQUIRE_MESSAGE(ok, ok.error());
  CHECK(ok->statement.predicate_type == "https://cyclonedx.org/bom");
  CHECK(verify_attestation(layer, keys, image, std::nullopt));

  auto wrong_type = verify_attestation(layer, keys, image, std::string(k_vuln_predicate));
  REQUIRE_FALSE(wrong_type);
  CHECK(wrong_type.error().find("predicate type is") != std::string::npos);
  auto wrong_subject = verify_attestation(layer, keys, Digest::of("other"), std::nullopt);
  REQUIRE_FALSE(wrong_subject);
  CHECK(wrong_subject.error().find("no subject") != std::string::npos);
  CHECK_FALSE(verify_attestation(layer, {PrivateKey::generate_p256().public_key()}, image, std::nullopt));

  SignatureEvidence garbage = layer;
  garbage.payload = "{not json";
  CHECK_FALSE(verify_attestation(garbage, keys, image, std::nullopt));
  SignatureEvidence mislabelled = layer;
  mislabelled.annotations["predicateType"] = std::string(k_vuln_predicate);
  CHECK_FALSE(verify_attestation(mislabelled, keys, image, std::nullopt));
}
