#include <doctest/doctest.h>

#include "base/fileio.hpp"
#include "oci/layout.hpp"
#include "oci/mediatype.hpp"
#include "signer/attestation.hpp"
#include "signer/source.hpp"
#include "signer/store.hpp"

using namespace kiln::signer;
using kiln::oci::Digest;
namespace fs = std::filesystem;

namespace {

struct TestLayout
{
  kiln::TempDir dir{fs::temp_directory_path(), "kiln-store-"};
  kiln::oci::Layout layout = *kiln::oci::Layout::create(dir.path() / "layout");
  kiln::oci::Descriptor image;

  TestLayout()
  {
    auto config = layout.write_blob(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})",
                                    kiln::oci::mediatype::k_oci_config);
    REQUIRE(config);
    std::string manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":)" +
                           std::to_string(config->size) + R"(,"digest":")" + config->digest.str() + R"("},"layers":[]})";
    auto written = layout.write_blob(manifest, kiln::oci::mediatype::k_oci_manifest);
    REQUIRE(written);
    image = *written;
    REQUIRE(layout.set_tag("app", image));
  }

  std::vector<SignatureEvidence> attachments(AttachmentKind kind)
  {
    LayoutAttachmentSource source(layout);
    auto loaded = load_attachments(source, image.digest, kind);
    REQUIRE_MESSAGE(loaded, loaded.error());
    return *loaded;
  }
};

} // namespace

TEST_CASE("sign_image stores a .sig image with cosign's annotations and never duplicates")
{
  TestLayout t;
  PrivateKey key = PrivateKey::generate_p256();
  SignOptions options{"registry.example.com/app:1", {{"team", "blue"}}, Bundle::no, ""};
  auto first = sign_image(t.layout, t.image, key, options);
  REQUIRE_MESSAGE(first, first.error());
  REQUIRE(first->signatures.size() == 1);
  CHECK(first->signatures[0].added);
  CHECK(first->signatures[0].tag == attachment_tag(t.image.digest, AttachmentKind::signatures));
  auto again = sign_image(t.layout, t.image, key, options);
  REQUIRE(again);
  CHECK_FALSE(again->signatures[0].added);
  auto other = sign_image(t.layout, t.image, PrivateKey::generate_p256(), options);
  REQUIRE(other);
  CHECK(other->signatures[0].added);

  auto evidence = t.attachments(AttachmentKind::signatures);
  REQUIRE(evidence.size() == 2);
  TrustMaterial trust;
  trust.keys.push_back(key.public_key());
  SignatureClaims claims{t.image.digest, "registry.example.com/app:1", IdentityMatch::exact, {{"team", "blue"}}};
  CHECK(verify_signatures(evidence, trust, claims, 0).accepted.size() == 1);

  auto index = t.layout.read_index();
  REQUIRE(index);
  int sigs = 0, images = 0;
  for (const auto& entry : index->manifests) {
    auto kind = entry.annotations.find("kind");
    if (kind != entry.annotations.end()) {
      sigs += kind->second == k_kind_sigs;
      images += kind->second == k_kind_image && entry.digest == t.image.digest;
    }
  }
  CHECK(sigs == 1);
  CHECK(images == 1);
}

TEST_CASE("sign_image refuses an untagged identity and writes a bundle referrer on request")
{
  TestLayout t;
  PrivateKey key = PrivateKey::generate_p256();
  CHECK_FALSE(sign_image(t.layout, t.image, key, {"registry.example.com/app", {}, Bundle::no, ""}));
  auto signed_image = sign_image(t.layout, t.image, key, {"registry.example.com/app:1", {}, Bundle::yes,
                                                          "2024-01-01T00:00:00Z"});
  REQUIRE(signed_image);
  REQUIRE(signed_image->bundle_referrer);
  auto referrer = t.layout.read_blob(*signed_image->bundle_referrer);
  REQUIRE(referrer);
  auto doc = nlohmann::json::parse(*referrer);
  CHECK(doc["subject"]["digest"] == t.image.digest.str());
  CHECK(t.layout.has_blob(*Digest::parse(doc["layers"][0]["digest"].get<std::string>())));
}

TEST_CASE("attest_image appends, and --replace drops the same predicate type")
{
  TestLayout t;
  PrivateKey key = PrivateKey::generate_p256();
  auto attest = [&](const std::string& type, Replace replace) {
    auto stored = attest_image(t.layout, t.image, key,
                               {"registry.example.com/app", type, nlohmann::ordered_json::object(), replace});
    REQUIRE_MESSAGE(stored, stored.error());
  };
  attest("https://cosign.sigstore.dev/attestation/vuln/v1", Replace::no);
  attest("https://cyclonedx.org/bom", Replace::no);
  attest("https://cosign.sigstore.dev/attestation/vuln/v1", Replace::same_predicate_type);
  auto layers = t.attachments(AttachmentKind::attestations);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].annotations.at("predicateType") == "https://cyclonedx.org/bom");
  for (const auto& layer : layers) {
    CHECK(layer.annotations.at("dev.cosignproject.cosign/signature").empty());
    CHECK(verify_attestation(layer, {key.public_key()}, t.image.digest, std::nullopt));
  }
}

TEST_CASE("an image without attachments has none; a missing blob is an error")
{
  TestLayout t;
  CHECK(t.attachments(AttachmentKind::signatures).empty());
  PrivateKey key = PrivateKey::generate_p256();
  REQUIRE(sign_image(t.layout, t.image, key, {"registry.example.com/app:1", {}, Bundle::no, ""}));
  auto evidence = t.attachments(AttachmentKind::signatures);
  REQUIRE(evidence.size() == 1);
  fs::remove(t.layout.blob_path(Digest::of(evidence[0].payload)));
  LayoutAttachmentSource source(t.layout);
  CHECK_FALSE(load_attachments(source, t.image.digest, AttachmentKind::signatures));
}

TEST_CASE("attachments are found by kind in a layout written by cosign save (no ref.name)")
{
  TestLayout t;
  PrivateKey key = PrivateKey::generate_p256();
  REQUIRE(sign_image(t.layout, t.image, key, {"registry.example.com/app:1", {}, Bundle::no, ""}));
  REQUIRE(t.layout.update_index([](kiln::oci::ImageIndex& index) -> kiln::Result<void> {
    for (auto& entry : index.manifests) {
      entry.annotations.erase(std::string(kiln::oci::k_annotation_ref_name));
    }
    return {};
  }));
  CHECK(t.attachments(AttachmentKind::signatures).size() == 1);
  CHECK(t.attachments(AttachmentKind::attestations).empty());
  LayoutAttachmentSource source(t.layout);
  auto other = load_attachments(source, Digest::of("another image"), AttachmentKind::signatures);
  REQUIRE(other);
  CHECK(other->empty());
}
