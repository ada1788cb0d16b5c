#include "signer/statement.hpp"

#include <doctest/doctest.h>

using namespace kiln::signer;
using kiln::oci::Digest;

TEST_CASE("predicate type names map to cosign's URIs")
{
  CHECK(*predicate_type_uri("vuln") == "https://cosign.sigstore.dev/attestation/vuln/v1");
  CHECK(*predicate_type_uri("custom") == "https://cosign.sigstore.dev/attestation/v1");
  CHECK(*predicate_type_uri("spdxjson") == "https://spdx.dev/Document");
  CHECK(*predicate_type_uri("cyclonedx") == "https://cyclonedx.org/bom");
  CHECK(*predicate_type_uri("slsaprovenance") == "https://slsa.dev/provenance/v0.2");
  CHECK(*predicate_type_uri("slsaprovenance1") == "https://slsa.dev/provenance/v1");
  CHECK(*predicate_type_uri("openvex") == "https://openvex.dev/ns");
  CHECK(*predicate_type_uri("https://example.com/p/v1") == "https://example.com/p/v1");
  CHECK_FALSE(predicate_type_uri("nonsense"));
}

TEST_CASE("a statement has exactly four keys and round-trips")
{
  Digest d = Digest::of("image");
  auto predicate = predicate_from_file("cyclonedx", R"({"bomFormat":"CycloneDX","specVersion":"1.5"})", "");
  REQUIRE(predicate);
  std::string text =
      write_statement("registry.example.com/ns/app", d, "https://cyclonedx.org/bom", *predicate);
  CHECK(text ==
        R"({"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"registry.example.com/ns/app",)"
        R"("digest":{"sha256":")" +
            d.hex() +
            R"("}}],"predicateType":"https://cyclonedx.org/bom",)"
            R"("predicate":{"bomFormat":"CycloneDX","specVersion":"1.5"}})");
  auto parsed = parse_statement(text);
  REQUIRE(parsed);
  CHECK(parsed->predicate_type == "https://cyclonedx.org/bom");
  CHECK(parsed->subject_sha256 == std::vector<std::string>{d.hex()});
  CHECK(parsed->predicate.dump() == R"({"bomFormat":"CycloneDX","specVersion":"1.5"})");
  CHECK_FALSE(parse_statement(text.substr(0, text.size() - 1) + R"(,"extra":1})"));
}

TEST_CASE("custom and spdx predicates wrap the file text")
{
  auto custom = predicate_from_file("custom", "hello", "2024-01-01T00:00:00Z");
  REQUIRE(custom);
  CHECK(custom->dump() == R"({"Data":"hello","Timestamp":"2024-01-01T00:00:00Z"})");
  auto spdx = predicate_from_file("spdx", "SPDXVersion: SPDX-2.3", "");
  REQUIRE(spdx);
  CHECK(spdx->is_string());
  CHECK_FALSE(predicate_from_file("spdxjson", "[1]", ""));
  CHECK_FALSE(
      predicate_from_file("vuln", R"({"metadata":{"scanStartedOn":"yesterday","scanFinishedOn":"x"}})", ""));
}

TEST_CASE("a vuln predicate of the cosign schema is taken as written, its times checked")
{
  // The shape scanner::to_cosign_vuln writes (§4.4 of the signing spec).
  const std::string text =
      R"({"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},)"
      R"("scanner":{"uri":"pkg:generic/kiln@0.1.0","version":"0.1.0","db":{"uri":"https://example.com/db","version":"42"},"result":{}},)"
      R"("metadata":{"scanStartedOn":"2024-01-01T00:00:00Z","scanFinishedOn":"2024-01-01T00:01:00.5+02:00"}})";
  auto predicate = predicate_from_file("vuln", text, "");
  REQUIRE(predicate);
  CHECK(predicate->dump() == text);
  std::string bad_time = text;
  bad_time.replace(bad_time.find("2024-01-01T00:01:00.5+02:00"), 27, "2024-01-01 00:01:00");
  CHECK_FALSE(predicate_from_file("vuln", bad_time, ""));
  CHECK(is_rfc3339("2024-02-29T23:59:60Z"));
  CHECK_FALSE(is_rfc3339("2024-13-01T00:00:00Z"));
}
