#include <doctest/doctest.h>

#include "base/strings.hpp"
#include "signer/certificate.hpp"
#include "signer/rekor.hpp"
#include "tests/unit/signer/shared.hpp"

using namespace kiln::signer;

TEST_CASE("the fixture SET verifies with rekor.pub and binds signature, certificate and payload")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  auto text = [](const char* name) { return *read_shared(std::string("interop/cosign-real/") + name); };
  std::vector<PublicKey> rekor = {*PublicKey::from_pem(text("rekor.pub"))};
  auto entry = verify_rekor_set(text("rekor-set"), rekor);
  REQUIRE_MESSAGE(entry, entry.error());
  CHECK(entry->integrated_time == 1670870899);
  CHECK(entry->log_index == 8949589);
  CHECK(entry->log_id == "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d");

  std::string signature = *kiln::base64_decode(text("rekor-sig"));
  std::string leaf = Certificate::from_pem_all(text("fulcio-cert"))->front().der();
  CHECK(check_hashedrekord(*entry, signature, leaf, text("rekor-payload")));
  CHECK_FALSE(check_hashedrekord(*entry, signature, leaf, text("rekor-payload") + " "));
  CHECK_FALSE(check_hashedrekord(*entry, signature + "x", leaf, text("rekor-payload")));
  CHECK_FALSE(check_hashedrekord(*entry, signature, PublicKey::from_pem(text("cosign.pub"))->spki_der(),
                                 text("rekor-payload")));

  CHECK_FALSE(verify_rekor_set(text("rekor-set"), {*PublicKey::from_pem(text("cosign.pub"))}));
  std::string tampered = text("rekor-set");
  tampered.replace(tampered.find("1670870899"), 10, "1670870900");
  auto bad = verify_rekor_set(tampered, rekor);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("does not verify") != std::string::npos);
  CHECK_FALSE(verify_rekor_set("{}", rekor));
}
