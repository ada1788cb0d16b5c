#include "signer/attestation.hpp"
#include "signer/pem.hpp"
#include "signer/rekor.hpp"
#include "tests/unit/signer/make_cert.hpp"
#include "tests/unit/signer/memory_source.hpp"

#include <ctime>
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

namespace {

// A keyless attestation as cosign stores it: certificate, chain and a Rekor
// SET over a dsse (or intoto) entry, made with a test CA and Rekor key.
struct KeylessFixture
{
  PrivateKey root_key = PrivateKey::generate_p256();
  PrivateKey leaf_key = PrivateKey::generate_p256();
  PrivateKey rekor_key = PrivateKey::generate_p256();
  Certificate root = make_cert({"root", "", {}, true, -86400, 86400}, root_key, root_key);
  Certificate leaf = make_cert({"",
                                "dev@example.com",
                                {{k_oid_issuer_v2, std::string{0x0c, 19} + "https://issuer.test"}},
                                false,
                                -300,
                                300},
                               leaf_key, root_key, root.get());
  Digest image = Digest::of("image");
  std::string statement = write_statement("reg/app", image, std::string(k_vuln_predicate), {{"k", "v"}});
  std::string envelope = *sign_envelope(leaf_key, k_in_toto_payload_type, statement);
  std::string signature = parse_envelope(envelope)->signatures.front();

  TrustMaterial trust(const std::string& identity = "dev@example.com")
  {
    TrustMaterial t;
    t.certificates = CertificateTrust{{root}, {}, identity, "", "https://issuer.test"};
    t.rekor_keys = {rekor_key.public_key()};
    return t;
  }

  std::string dsse_body(const Certificate& who) const
  {
    nlohmann::json body = {
        {"apiVersion", "0.0.1"},
        {"kind", "dsse"},
        {"spec",
         {{"envelopeHash", {{"algorithm", "sha256"}, {"value", Digest::of(envelope).hex()}}},
          {"payloadHash", {{"algorithm", "sha256"}, {"value", Digest::of(statement).hex()}}},
          {"signatures",
           {{{"signature", kiln::base64_encode(signature)},
             {"verifier", kiln::base64_encode(pem_encode("CERTIFICATE", who.der()))}}}}}}};
    return body.dump();
  }

  std::string intoto_body() const
  {
    nlohmann::json body = {
        {"apiVersion", "0.0.2"},
        {"kind", "intoto"},
        {"spec",
         {{"content",
           {{"envelope",
             {{"payloadType", "application/vnd.in-toto+json"},
              {"signatures",
               {{{"sig", kiln::base64_encode(kiln::base64_encode(signature))},
                 {"publicKey", kiln::base64_encode(pem_encode("CERTIFICATE", leaf.der()))}}}}}},
            {"payloadHash", {{"algorithm", "sha256"}, {"value", Digest::of(statement).hex()}}}}}}}};
    return body.dump();
  }

  SignatureEvidence layer(const std::string& body) const
  {
    std::string body_b64 = kiln::base64_encode(body);
    std::string log_id = Digest::of(rekor_key.public_key().spki_der()).hex();
    int64_t now = std::time(nullptr);
    std::string set = *rekor_key.sign(canonical_set_payload(body_b64, now, log_id, 1));
    nlohmann::json bundle = {
        {"SignedEntryTimestamp", kiln::base64_encode(set)},
        {"Payload", {{"body", body_b64}, {"integratedTime", now}, {"logIndex", 1}, {"logID", log_id}}}};
    return {std::string(k_dsse_media_type),
            envelope,
            {{"dev.cosignproject.cosign/signature", ""},
             {"predicateType", std::string(k_vuln_predicate)},
             {"dev.sigstore.cosign/certificate", pem_encode("CERTIFICATE", leaf.der())},
             {"dev.sigstore.cosign/chain", pem_encode("CERTIFICATE", root.der())},
             {"dev.sigstore.cosign/bundle", bundle.dump()}}};
  }
};

} // namespace

TEST_CASE("keyless attestations: certificate, identity, issuer and the Rekor entry")
{
  KeylessFixture f;
  int64_t now = std::time(nullptr);
  auto ok = verify_attestation(f.layer(f.dsse_body(f.leaf)), f.trust(), f.image,
                               std::string(k_vuln_predicate), now);
  REQUIRE_MESSAGE(ok, ok.error());
  CHECK(ok->signer == "certificate for dev@example.com (issuer https://issuer.test)");
  auto intoto = verify_attestation(f.layer(f.intoto_body()), f.trust(), f.image, std::nullopt, now);
  CHECK_MESSAGE(intoto, intoto.error());

  CHECK_FALSE(verify_attestation(f.layer(f.dsse_body(f.leaf)), f.trust("other@example.com"), f.image,
                                 std::nullopt, now));
  auto other_cert = verify_attestation(f.layer(f.dsse_body(f.root)), f.trust(), f.image, std::nullopt, now);
  REQUIRE_FALSE(other_cert);
  CHECK(other_cert.error() == "Rekor entry does not hold this signature by this certificate");
  SignatureEvidence no_set = f.layer(f.dsse_body(f.leaf));
  no_set.annotations.erase("dev.sigstore.cosign/bundle");
  CHECK_FALSE(verify_attestation(no_set, f.trust(), f.image, std::nullopt, now));
  TrustMaterial wrong_rekor = f.trust();
  wrong_rekor.rekor_keys = {PrivateKey::generate_p256().public_key()};
  CHECK_FALSE(verify_attestation(f.layer(f.dsse_body(f.leaf)), wrong_rekor, f.image, std::nullopt, now));
}
