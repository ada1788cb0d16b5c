#include <doctest/doctest.h>

#include "signer/attachment.hpp"
#include "signer/payload.hpp"

using namespace kiln::signer;
using kiln::oci::Digest;

namespace {
AttachmentLayer signature_layer(const std::string& payload, const std::string& signature)
{
  return {std::string(k_simple_signing_media_type), Digest::of(payload), payload.size(),
          {{std::string(k_signature_annotation), signature}}};
}
bool always(const AttachmentLayer&)
{
  return true;
}
} // namespace

TEST_CASE("the .sig tag and a first signature manifest match cosign's bytes")
{
  Digest image = *Digest::parse("sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00");
  CHECK(attachment_tag(image, AttachmentKind::signatures) ==
        "sha256-634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00.sig");
  CHECK(attachment_tag(image, AttachmentKind::attestations).ends_with(".att"));

  std::string payload = write_payload("registry.example.com/ns/app:1.0", image);
  auto result = append_attachment({}, signature_layer(payload, "MEUC"), payload, always);
  CHECK(result.added);
  Digest p = Digest::of(payload);
  CHECK(result.config == R"({"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],)"
                         R"("os":"","rootfs":{"type":"layers","diff_ids":[")" + p.str() + R"("]},"config":{}})");
  CHECK(result.manifest ==
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":)" +
          std::to_string(result.config.size()) + R"(,"digest":")" + Digest::of(result.config).str() +
          R"("},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":)" +
          std::to_string(payload.size()) + R"(,"digest":")" + p.str() +
          R"(","annotations":{"dev.cosignproject.cosign/signature":"MEUC"}}]})");
  REQUIRE(result.blobs.size() == 2);
  CHECK(result.blobs[0].digest == Digest::of(result.config));
  CHECK(result.blobs[1].data == payload);

  auto layers = parse_attachment_manifest(result.manifest);
  REQUIRE(layers);
  REQUIRE(layers->size() == 1);
  CHECK(layers->front().annotations.at(std::string(k_signature_annotation)) == "MEUC");
}

TEST_CASE("appending never duplicates and --replace drops the same predicate type")
{
  std::string a = "payload-a", b = "payload-b";
  auto first = append_attachment({}, signature_layer(a, "S1"), a, always);
  auto layers = *parse_attachment_manifest(first.manifest);
  auto again = append_attachment(layers, signature_layer(a, "S2"), a, always);
  CHECK_FALSE(again.added);
  CHECK(parse_attachment_manifest(again.manifest)->size() == 1);
  auto other_key = append_attachment(layers, signature_layer(a, "S2"), a, [](const AttachmentLayer&) { return false; });
  CHECK(other_key.added);
  auto second = append_attachment(layers, signature_layer(b, "S3"), b, always);
  CHECK(parse_attachment_manifest(second.manifest)->size() == 2);
  CHECK(second.config.find(Digest::of(a).str()) < second.config.find(Digest::of(b).str()));

  auto att = [](const std::string& blob, const std::string& type) {
    return AttachmentLayer{"application/vnd.dsse.envelope.v1+json", Digest::of(blob), blob.size(),
                           {{std::string(k_signature_annotation), ""}, {"predicateType", type}}};
  };
  auto v1 = append_attachment({}, att("e1", "vuln"), "e1", always);
  auto v2 = append_attachment(*parse_attachment_manifest(v1.manifest), att("e2", "sbom"), "e2", always);
  auto v3 = append_attachment(*parse_attachment_manifest(v2.manifest), att("e3", "vuln"), "e3", always,
                              Replace::same_predicate_type);
  auto final_layers = *parse_attachment_manifest(v3.manifest);
  REQUIRE(final_layers.size() == 2);
  CHECK(final_layers[0].digest == Digest::of("e2"));
  CHECK(final_layers[1].digest == Digest::of("e3"));
  CHECK(final_layers[1].annotations.at(std::string(k_signature_annotation)).empty());
}

TEST_CASE("non-OCI attachment manifests are refused")
{
  CHECK_FALSE(parse_attachment_manifest(R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[]})"));
  CHECK_FALSE(parse_attachment_manifest("garbage"));
}
