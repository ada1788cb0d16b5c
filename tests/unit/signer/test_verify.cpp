// Every row of ../shared/interop/cosign-real/README.md's verdict table, read
// from the fixture folders as they are (manifest.json + signature-N).
#include "signer/certificate.hpp"
#include "signer/rekor.hpp"
#include "signer/verify.hpp"
#include "tests/unit/signer/shared.hpp"

#include <ctime>
#include <doctest/doctest.h>

using namespace kiln::signer;
using kiln::oci::Digest;

namespace {

const std::string k_single = "192.168.64.2:5000/cosign-signed-single-sample";

std::string fixture_text(const std::string& name)
{
  auto text = read_shared("interop/cosign-real/" + name);
  REQUIRE_MESSAGE(text, text.error());
  return *text;
}

PublicKey key(const std::string& name)
{
  auto k = PublicKey::from_pem(fixture_text(name));
  REQUIRE(k);
  return *k;
}

std::vector<Certificate> certs(const std::string& name)
{
  auto c = Certificate::from_pem_all(fixture_text(name));
  REQUIRE(c);
  return *c;
}

TrustMaterial keys(std::initializer_list<const char*> names, std::initializer_list<const char*> rekor = {})
{
  TrustMaterial trust;
  for (const char* name : names) {
    trust.keys.push_back(key(name));
  }
  for (const char* name : rekor) {
    trust.rekor_keys.push_back(key(name));
  }
  return trust;
}

TrustMaterial fulcio(const std::string& email = "mitr@redhat.com", const char* rekor = "rekor.pub")
{
  TrustMaterial trust;
  trust.certificates =
      CertificateTrust{certs("fulcio_v1.crt.pem"), {}, email, "", "https://github.com/login/oauth"};
  trust.rekor_keys.push_back(key(rekor));
  return trust;
}

TrustMaterial pki(const std::string& email = "qiwan@redhat.com", bool policy_intermediates = true)
{
  TrustMaterial trust;
  trust.certificates =
      CertificateTrust{certs("pki_root_crts.pem"),
                       policy_intermediates ? certs("pki_intermediate_crts.pem") : std::vector<Certificate>{},
                       email, "myhost.example.com", ""};
  return trust;
}

using Mutation = std::function<void(std::vector<SignatureEvidence>&)>;

// The verdict for a fixture folder: accepted when any signature verifies.
bool verdict(const std::string& folder, const TrustMaterial& trust, const std::string& reference,
             IdentityMatch match = IdentityMatch::repository, const Mutation& mutate = {})
{
  auto dir = shared_dir() / "interop/cosign-real" / folder;
  std::vector<SignatureEvidence> evidence;
  for (auto& signature : read_dir_signatures(dir)) {
    evidence.push_back({signature.mime_type, signature.payload, signature.annotations});
  }
  REQUIRE_FALSE(evidence.empty());
  auto manifest = kiln::read_file(dir / "manifest.json");
  if (!manifest) {
    return false; // without the manifest its digest cannot be checked
  }
  if (mutate) {
    mutate(evidence);
  }
  SignatureClaims claims{Digest::of(*manifest), reference, match, {}};
  auto report = verify_signatures(evidence, trust, claims, std::time(nullptr));
  MESSAGE(folder << ": "
                 << (report.ok() ? "accepted by " + report.accepted.front().signer : report.why_rejected()));
  return report.ok();
}

Mutation drop(std::string_view annotation)
{
  return [key = std::string(annotation)](std::vector<SignatureEvidence>& evidence) {
    for (auto& e : evidence) {
      e.annotations.erase(key);
    }
  };
}

} // namespace

TEST_CASE("cosign-real verdict table: main rows")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  CHECK(verdict("dir-img-cosign-valid", keys({"cosign.pub"}), k_single));
  CHECK(verdict("dir-img-cosign-valid-2", keys({"cosign.pub"}), k_single));
  CHECK(verdict("dir-img-cosign-mixed", keys({"cosign.pub"}), k_single));
  CHECK(verdict("dir-img-cosign-valid-with-tag", keys({"cosign.pub"}), "192.168.64.2:5000/skopeo-signed:tag",
                IdentityMatch::exact));
  CHECK(verdict("dir-img-cosign-key-rekor-valid", keys({"cosign2.pub"}, {"rekor.pub"}),
                "192.168.64.2:5000/cosign-signed/key-1"));
  CHECK(verdict("dir-img-cosign-fulcio-rekor-valid", fulcio(),
                "192.168.64.2:5000/cosign-signed/fulcio-rekor-1"));
  CHECK(verdict("dir-img-cosign-pki-valid", pki(), "localhost:5000/test"));
  CHECK_FALSE(verdict("dir-img-cosign-modified-manifest", keys({"cosign.pub"}), k_single));
  CHECK_FALSE(verdict("dir-img-cosign-no-manifest", keys({"cosign.pub"}), k_single));
  CHECK_FALSE(verdict("dir-img-cosign-manifest-digest-error", keys({"cosign.pub"}), k_single));
  CHECK_FALSE(verdict("dir-img-cosign-other-attachment", keys({"cosign.pub"}), "testing/manifest:latest"));
}

TEST_CASE("cosign-real verdict table: key and identity rows")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  CHECK_FALSE(verdict("dir-img-cosign-valid", keys({"cosign2.pub"}), k_single));
  CHECK(verdict("dir-img-cosign-valid", keys({"cosign2.pub", "cosign.pub"}), k_single));
  CHECK_FALSE(verdict("dir-img-cosign-valid", keys({"cosign.pub"}), k_single, IdentityMatch::exact));
  CHECK_FALSE(verdict("dir-img-cosign-valid", keys({"cosign.pub"}), k_single + ":latest",
                      IdentityMatch::repo_digest_or_exact));
  CHECK_FALSE(verdict("dir-img-cosign-valid", keys({"cosign.pub"}), "testing/manifest:notlatest"));
  CHECK_FALSE(verdict("dir-img-cosign-valid-2", keys({"cosign.pub"}), "this/does-not:match"));
  CHECK_FALSE(verdict("dir-img-cosign-valid-with-tag", keys({"cosign.pub"}),
                      "192.168.64.2:5000/skopeo-signed:othertag", IdentityMatch::exact));
  CHECK_FALSE(verdict("dir-img-cosign-valid", keys({"cosign.pub"}), k_single, IdentityMatch::repository,
                      drop("dev.cosignproject.cosign/signature")));
  CHECK_FALSE(verdict("dir-img-cosign-valid", keys({"cosign.pub"}), k_single, IdentityMatch::repository,
                      [](std::vector<SignatureEvidence>& evidence) {
                        auto& p = evidence.front().payload;
                        for (size_t at = p.find("\":"); at != std::string::npos; at = p.find("\":", at + 3)) {
                          p.insert(at + 2, " ");
                        }
                      }));
}

TEST_CASE("cosign-real verdict table: Rekor, Fulcio and PKI rows")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  const std::string key1 = "192.168.64.2:5000/cosign-signed/key-1";
  const std::string fulcio_ref = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";
  CHECK(verdict("dir-img-cosign-key-rekor-valid",
                keys({"cosign.pub", "cosign2.pub"}, {"cosign.pub", "rekor.pub"}), key1));
  CHECK_FALSE(verdict("dir-img-cosign-key-rekor-valid", keys({"cosign2.pub"}, {"cosign.pub"}), key1));
  CHECK_FALSE(verdict("dir-img-cosign-key-rekor-valid", keys({"cosign.pub"}), key1));

  CHECK_FALSE(
      verdict("dir-img-cosign-fulcio-rekor-valid", fulcio("this-does-not-match@example.com"), fulcio_ref));
  CHECK_FALSE(
      verdict("dir-img-cosign-fulcio-rekor-valid", fulcio("mitr@redhat.com", "cosign.pub"), fulcio_ref));
  CHECK_FALSE(verdict("dir-img-cosign-fulcio-rekor-valid", fulcio(), fulcio_ref, IdentityMatch::repository,
                      drop("dev.sigstore.cosign/chain")));
  TrustMaterial chain_as_ca = fulcio();
  chain_as_ca.certificates->roots = certs("fulcio-chain");
  CHECK(verdict("dir-img-cosign-fulcio-rekor-valid", chain_as_ca, fulcio_ref, IdentityMatch::repository,
                drop("dev.sigstore.cosign/chain")));
  CHECK_FALSE(verdict("dir-img-cosign-fulcio-rekor-valid", fulcio(), fulcio_ref, IdentityMatch::repository,
                      drop("dev.sigstore.cosign/bundle")));
  TrustMaterial wrong_issuer = fulcio();
  wrong_issuer.certificates->issuer = "https://accounts.google.com";
  CHECK_FALSE(verdict("dir-img-cosign-fulcio-rekor-valid", wrong_issuer, fulcio_ref));

  CHECK_FALSE(verdict("dir-img-cosign-pki-valid", pki("someone@example.com"), "localhost:5000/test"));
  CHECK(verdict("dir-img-cosign-pki-valid", pki(), "localhost:5000/test", IdentityMatch::repository,
                drop("dev.sigstore.cosign/chain")));
  CHECK_FALSE(verdict("dir-img-cosign-pki-valid", pki("qiwan@redhat.com", false), "localhost:5000/test",
                      IdentityMatch::repository, drop("dev.sigstore.cosign/chain")));
}

TEST_CASE("cosign-real stand-alone rekor-* and fulcio-* files")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  std::string payload = fixture_text("rekor-payload");
  SignatureEvidence evidence{std::string(k_simple_signing_media_type),
                             payload,
                             {{"dev.cosignproject.cosign/signature", fixture_text("rekor-sig")},
                              {"dev.sigstore.cosign/certificate", fixture_text("fulcio-cert")},
                              {"dev.sigstore.cosign/chain", fixture_text("fulcio-chain")},
                              {"dev.sigstore.cosign/bundle", fixture_text("rekor-set")}}};
  SignatureClaims claims{*parse_payload(payload).map([](const Payload& p) { return p.manifest_digest; }),
                         std::nullopt,
                         IdentityMatch::repository,
                         {}};
  auto ok = verify_signature(evidence, fulcio(), claims, std::time(nullptr));
  REQUIRE_MESSAGE(ok, ok.error());
  CHECK(ok->integrated_time == 1670870899);
  CHECK(ok->signer == "certificate for mitr@redhat.com (issuer https://github.com/login/oauth)");

  SignatureEvidence other = evidence;
  other.payload = fixture_text("dir-img-cosign-valid/manifest.json");
  CHECK_FALSE(verify_signature(other, fulcio(), claims, std::time(nullptr)));
  CHECK_FALSE(
      verify_signature(evidence, fulcio("mitr@redhat.com", "cosign.pub"), claims, std::time(nullptr)));

  // The leaf expired ten minutes after issue: only integratedTime works.
  auto leaf = certs("fulcio-cert").front();
  auto chain = certs("fulcio-chain");
  CHECK(verify_chain(leaf, chain, certs("fulcio_v1.crt.pem"), 1670870899));
  CHECK_FALSE(verify_chain(leaf, chain, certs("fulcio_v1.crt.pem"), std::time(nullptr)));

  auto pki_leaf = certs("pki-cert").front();
  auto roots = certs("pki_root_crts.pem");
  CHECK(verify_chain(pki_leaf, certs("pki-chain"), roots, std::time(nullptr)));
  CHECK(verify_chain(pki_leaf, certs("pki_intermediate_crts.pem"), roots, std::time(nullptr)));
  CHECK_FALSE(verify_chain(pki_leaf, {}, roots, std::time(nullptr)));
}

TEST_CASE("cosign-real unknown-cosign-key.signature verifies with neither key")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  auto signature = parse_dir_signature(fixture_text("unknown-cosign-key.signature"));
  REQUIRE(signature);
  SignatureEvidence evidence{signature->mime_type, signature->payload, signature->annotations};
  SignatureClaims claims{Digest::of(fixture_text("dir-img-cosign-valid/manifest.json")),
                         std::nullopt,
                         IdentityMatch::repository,
                         {}};
  CHECK_FALSE(verify_signature(evidence, keys({"cosign.pub"}), claims, std::time(nullptr)));
  CHECK_FALSE(verify_signature(evidence, keys({"cosign2.pub"}), claims, std::time(nullptr)));
}

TEST_CASE("kiln's own signature: claims, annotations and canonical SET payload")
{
  PrivateKey key = PrivateKey::generate_p256();
  Digest manifest = Digest::of("manifest");
  std::string payload = write_payload("registry.example.com/app:1", manifest, {{"team", "blue"}});
  SignatureEvidence evidence{
      std::string(k_simple_signing_media_type),
      payload,
      {{"dev.cosignproject.cosign/signature", kiln::base64_encode(*key.sign(payload))}}};
  TrustMaterial trust;
  trust.keys.push_back(key.public_key());
  SignatureClaims claims{manifest, "registry.example.com/app:1", IdentityMatch::exact, {{"team", "blue"}}};
  CHECK(verify_signature(evidence, trust, claims, 0));
  claims.annotations["team"] = "red";
  auto wrong = verify_signature(evidence, trust, claims, 0);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error() == "payload lacks annotation team=red");
  claims.annotations.clear();
  claims.manifest_digest = Digest::of("other");
  CHECK_FALSE(verify_signature(evidence, trust, claims, 0));
  CHECK(canonical_set_payload("Ym9keQ==", 5, "ab", 7) ==
        R"({"body":"Ym9keQ==","integratedTime":5,"logID":"ab","logIndex":7})");
}
