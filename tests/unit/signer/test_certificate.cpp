#include <doctest/doctest.h>

#include <ctime>

#include "signer/certificate.hpp"
#include "tests/unit/signer/make_cert.hpp"
#include "tests/unit/signer/shared.hpp"

using namespace kiln::signer;

namespace {
// A DER UTF8String, as Fulcio writes extension .1.8.
std::string utf8_der(const std::string& text)
{
  return std::string{0x0c, static_cast<char>(text.size())} + text;
}
} // namespace

TEST_CASE("identity and issuer of the fixture Fulcio and PKI leaves")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  auto fulcio = Certificate::from_pem_all(*read_shared("interop/cosign-real/fulcio-cert"));
  REQUIRE(fulcio);
  REQUIRE(fulcio->size() == 1);
  CHECK(fulcio->front().emails() == std::vector<std::string>{"mitr@redhat.com"});
  auto issuer = fulcio->front().oidc_issuer();
  REQUIRE(issuer);
  CHECK(**issuer == "https://github.com/login/oauth");
  CHECK(fulcio->front().public_key());

  auto pki = Certificate::from_pem_all(*read_shared("interop/cosign-real/pki-cert"));
  REQUIRE(pki);
  CHECK(pki->front().emails() == std::vector<std::string>{"qiwan@redhat.com"});
  CHECK(pki->front().dns_names() == std::vector<std::string>{"myhost.example.com"});
  CHECK_FALSE(pki->front().oidc_issuer()->has_value());
  CHECK(pki->front().public_key()->describe().starts_with("RSA-4096 key"));
}

TEST_CASE("issuer extensions: .1.8 preferred, both must agree")
{
  PrivateKey ca_key = PrivateKey::generate_p256();
  PrivateKey leaf_key = PrivateKey::generate_p256();
  auto v2 = make_cert({"leaf", "a@example.com", {{k_oid_issuer_v2, utf8_der("https://accounts.google.com")}}}, leaf_key,
                      ca_key);
  CHECK(**v2.oidc_issuer() == "https://accounts.google.com");
  auto both = make_cert({"leaf", "a@example.com",
                         {{k_oid_issuer_v2, utf8_der("https://a.example")}, {k_oid_issuer_v1, "https://b.example"}}},
                        leaf_key, ca_key);
  CHECK_FALSE(both.oidc_issuer());
  auto bad = make_cert({"leaf", "a@example.com", {{k_oid_issuer_v2, "not DER"}}}, leaf_key, ca_key);
  CHECK_FALSE(bad.oidc_issuer());
}

TEST_CASE("chains: to the root at a time, a leaf is no anchor, expired is refused")
{
  PrivateKey root_key = PrivateKey::generate_p256();
  PrivateKey leaf_key = PrivateKey::generate_p256();
  CertSpec root_spec{"root", "", {}, true, -86400, 86400};
  auto root = make_cert(root_spec, root_key, root_key);
  auto leaf = make_cert({"leaf", "a@example.com", {}, false, -600, 600}, leaf_key, root_key, root.get());
  int64_t now = std::time(nullptr);
  CHECK(verify_chain(leaf, {}, {root}, now));
  CHECK_FALSE(verify_chain(leaf, {}, {root}, now + 3600));
  CHECK_FALSE(verify_chain(leaf, {}, {}, now));
  PrivateKey other_key = PrivateKey::generate_p256();
  auto other_root = make_cert(root_spec, other_key, other_key);
  CHECK_FALSE(verify_chain(leaf, {}, {other_root}, now));
  CHECK_FALSE(Certificate::from_der("garbage"));
  CHECK_FALSE(Certificate::from_pem_all("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
}
