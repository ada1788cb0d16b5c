#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "base/strings.hpp"
#include "signer/bundle.hpp"
#include "signer/dsse.hpp"

using namespace kiln::signer;
using kiln::oci::Digest;

TEST_CASE("bundle v0.3 and its referrer manifest")
{
  PrivateKey key = PrivateKey::generate_p256();
  auto bundle = write_bundle(key, R"({"_type":"https://in-toto.io/Statement/v1"})");
  REQUIRE(bundle);
  auto doc = nlohmann::json::parse(*bundle);
  CHECK(doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json");
  CHECK(doc["verificationMaterial"]["publicKey"]["hint"] == key.public_key().hint());
  CHECK(doc["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json");
  // The signature covers PAE of the statement, as DSSE requires.
  std::string statement = *kiln::base64_decode(doc["dsseEnvelope"]["payload"].get<std::string>());
  std::string sig = *kiln::base64_decode(doc["dsseEnvelope"]["signatures"][0]["sig"].get<std::string>());
  CHECK(key.public_key().verify(pae(k_in_toto_payload_type, statement), sig));
  CHECK(doc["dsseEnvelope"]["signatures"][0].size() == 1);
  Subject subject{"application/vnd.oci.image.manifest.v1+json", Digest::of("m"), 1};
  auto referrer = nlohmann::json::parse(write_bundle_referrer(subject, *bundle, "https://sigstore.dev/cosign/sign/v1",
                                                              "2024-01-01T00:00:00Z"));
  CHECK(referrer["config"]["digest"] == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  CHECK(referrer["layers"][0]["digest"] == Digest::of(*bundle).str());
  CHECK(referrer["subject"]["digest"] == Digest::of("m").str());
  CHECK(referrer["annotations"]["dev.sigstore.bundle.content"] == "dsse-envelope");
}
