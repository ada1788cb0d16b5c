#include "base/strings.hpp"
#include "signer/dsse.hpp"

#include <doctest/doctest.h>

using namespace kiln::signer;

TEST_CASE("PAE is the DSSE v1 pre-authentication encoding")
{
  CHECK(pae("application/vnd.in-toto+json", "{}") == "DSSEv1 28 application/vnd.in-toto+json 2 {}");
  CHECK(pae("", "") == "DSSEv1 0  0 ");
}

TEST_CASE("sign, parse and verify an envelope")
{
  PrivateKey key = PrivateKey::generate_p256();
  auto json = sign_envelope(key, k_in_toto_payload_type, R"({"a":1})");
  REQUIRE(json);
  CHECK(json->starts_with(
      R"({"payloadType":"application/vnd.in-toto+json","payload":"eyJhIjoxfQ==","signatures":[{"keyid":"","sig":")"));
  auto envelope = parse_envelope(*json);
  REQUIRE(envelope);
  CHECK(envelope->payload == R"({"a":1})");
  CHECK(verify_envelope(*envelope, key.public_key()));
  CHECK_FALSE(verify_envelope(*envelope, PrivateKey::generate_p256().public_key()));
  // The signature covers PAE, not the bare payload.
  auto bare = key.sign(R"({"a":1})");
  REQUIRE(bare);
  envelope->signatures = {*bare};
  CHECK_FALSE(verify_envelope(*envelope, key.public_key()));
}

TEST_CASE("garbage envelopes are refused")
{
  CHECK_FALSE(parse_envelope("garbage"));
  CHECK_FALSE(parse_envelope(R"({"payloadType":"x","payload":"%%","signatures":[{"sig":""}]})"));
  CHECK_FALSE(parse_envelope(R"({"payloadType":"x","payload":"","signatures":[]})"));
  CHECK_FALSE(parse_envelope(R"({"payloadType":"x","payload":"","signatures":[{"sig":""}],"extra":1})"));
  PrivateKey key = PrivateKey::generate_p256();
  auto json = sign_envelope(key, "text/plain", "x");
  REQUIRE(json);
  auto envelope = parse_envelope(*json);
  REQUIRE(envelope);
  auto wrong_type = verify_envelope(*envelope, key.public_key());
  REQUIRE_FALSE(wrong_type);
  CHECK(wrong_type.error().find("payloadType") != std::string::npos);
}
