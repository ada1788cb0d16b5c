#include <doctest/doctest.h>

#include <ctime>

#include "signer/pem.hpp"
#include "signer/trusted_root.hpp"
#include "signer/verify.hpp"
#include "tests/unit/signer/shared.hpp"

using namespace kiln::signer;

TEST_CASE("a trusted_root.json made of the fixture's Fulcio chain and Rekor key verifies the keyless signature")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  auto der_of = [](const std::string& name) {
    auto text = read_shared("interop/cosign-real/" + name);
    REQUIRE(text);
    auto blocks = pem_decode_all(*text);
    REQUIRE(blocks);
    return kiln::base64_encode(blocks->front().der);
  };
  nlohmann::json root = {
    {"mediaType", "application/vnd.dev.sigstore.trustedroot+json;version=0.1"},
    {"tlogs",
     {{{"baseUrl", "https://rekor.sigstore.dev"},
       {"hashAlgorithm", "SHA2_256"},
       {"publicKey", {{"rawBytes", der_of("rekor.pub")}, {"keyDetails", "PKIX_ECDSA_P256_SHA_256"}}},
       {"logId", {{"keyId", "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="}}}}}},
    {"certificateAuthorities",
     {{{"uri", "https://fulcio.sigstore.dev"},
       {"certChain", {{"certificates", {{{"rawBytes", der_of("fulcio_v1.crt.pem")}}}}}}}}},
    {"ctlogs", nlohmann::json::array()},
    {"timestampAuthorities", nlohmann::json::array()}};
  auto parsed = parse_trusted_root(root.dump());
  REQUIRE_MESSAGE(parsed, parsed.error());
  CHECK(parsed->rekor_keys.size() == 1);
  CHECK(parsed->ca_certificates.size() == 1);

  auto dir = shared_dir() / "interop/cosign-real/dir-img-cosign-fulcio-rekor-valid";
  auto signatures = read_dir_signatures(dir);
  REQUIRE(signatures.size() == 1);
  TrustMaterial trust;
  trust.certificates = CertificateTrust{parsed->ca_certificates, {}, "mitr@redhat.com", "", "https://github.com/login/oauth"};
  trust.rekor_keys = parsed->rekor_keys;
  SignatureClaims claims{kiln::oci::Digest::of(*kiln::read_file(dir / "manifest.json")), std::nullopt,
                         IdentityMatch::repository, {}};
  auto verified = verify_signature({signatures[0].mime_type, signatures[0].payload, signatures[0].annotations}, trust,
                                   claims, std::time(nullptr));
  CHECK_MESSAGE(verified, verified.error());
}

TEST_CASE("damaged trusted roots are refused")
{
  CHECK_FALSE(parse_trusted_root("[]"));
  CHECK_FALSE(parse_trusted_root(R"({"mediaType":"application/json"})"));
  CHECK_FALSE(parse_trusted_root(
    R"({"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[{"publicKey":{"rawBytes":"AAAA"}}]})"));
  CHECK_FALSE(parse_trusted_root(
    R"({"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[{"certChain":{}}]})"));
}
