#include "base/fileio.hpp"
#include "signer/keys.hpp"
#include "signer/pem.hpp"
#include "tests/unit/signer/shared.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace kiln::signer;

namespace {
kiln::Result<std::string> no_password()
{
  return kiln::fail("no password expected");
}

enum class Sec1 { yes, no };

// A private key PEM as OpenSSL writes it; the key is freed.
std::string openssl_pem(EVP_PKEY* key, Sec1 sec1)
{
  BIO* bio = BIO_new(BIO_s_mem());
  if (sec1 == Sec1::yes) {
    PEM_write_bio_PrivateKey_traditional(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}
} // namespace

TEST_CASE("sign and verify with a fresh P-256 key")
{
  PrivateKey key = PrivateKey::generate_p256();
  auto sig = key.sign("payload");
  REQUIRE(sig);
  CHECK(static_cast<unsigned char>((*sig)[0]) == 0x30); // DER SEQUENCE
  CHECK(key.public_key().verify("payload", *sig));
  CHECK_FALSE(key.public_key().verify("payload!", *sig));
  std::string damaged = *sig;
  damaged.back() ^= 1;
  CHECK_FALSE(key.public_key().verify("payload", damaged));
  // Trailing bytes after the DER signature are not strict DER.
  CHECK_FALSE(key.public_key().verify("payload", *sig + std::string(1, '\0')));
  CHECK(key.public_key().describe().starts_with("ECDSA P-256 key SHA256:"));
}

TEST_CASE("public key PEM round trip and the fixture hint")
{
  PrivateKey key = PrivateKey::generate_p256();
  std::string pem = key.public_key().pem();
  CHECK(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
  auto back = PublicKey::from_pem(pem);
  REQUIRE(back);
  CHECK(back->spki_der() == key.public_key().spki_der());

  auto text = read_shared("interop/cosign-real/cosign.pub");
  if (!text) {
    MESSAGE("skipped the fixture check: " << text.error());
    return;
  }
  auto fixture = PublicKey::from_pem(*text);
  REQUIRE(fixture);
  CHECK(fixture->hint() == "yHp5AY80bMAkgkSLdylrC+oUPvLMq5mwR3b7D2OPMB8=");
}

TEST_CASE("plain PKCS#8 and SEC1 private keys load without a password")
{
  PrivateKey key = PrivateKey::generate_p256();
  std::string pkcs8 = pem_encode("PRIVATE KEY", key.pkcs8_der());
  auto a = load_private_key(pkcs8, no_password);
  REQUIRE(a);
  CHECK(a->public_key().spki_der() == key.public_key().spki_der());

  // SEC1 as OpenSSL writes it.
  std::string sec1 = openssl_pem(EVP_EC_gen("P-256"), Sec1::yes);
  CHECK(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----"));
  CHECK(load_private_key(sec1, no_password));
}

TEST_CASE("unsupported algorithms and garbage are refused")
{
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  REQUIRE(ed != nullptr);
  std::string pem = openssl_pem(ed, Sec1::no);
  auto r = load_private_key(pem, no_password);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("unsupported key algorithm") != std::string::npos);

  CHECK_FALSE(load_private_key("not a key", no_password));
  CHECK_FALSE(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"));
  auto cert = PublicKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  CHECK_FALSE(cert);
}
