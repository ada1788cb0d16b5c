#include <doctest/doctest.h>
#include "base/strings.hpp"

#include "signer/cosign_key.hpp"
#include "signer/keys.hpp"
#include "signer/pem.hpp"

using namespace kiln::signer;

TEST_CASE("the go-securesystemslib vector decrypts")
{
  const char* vector =
    R"({"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},)"
    R"("cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="})";
  auto plain = decrypt_cosign_key_json(vector, "supersecret");
  REQUIRE(plain);
  CHECK(*plain == "reallyimportant");

  auto wrong = decrypt_cosign_key_json(vector, "notsosecret");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().find("wrong password") != std::string::npos);
}

TEST_CASE("encrypt and decrypt round trip, also with an empty password and stronger N")
{
  for (unsigned long long n : {32768ULL, 65536ULL, 131072ULL}) {
    std::string json = encrypt_cosign_key_json("secret bytes", "", n);
    CHECK(json.find(R"("N":)" + std::to_string(n)) != std::string::npos);
    auto plain = decrypt_cosign_key_json(json, "");
    REQUIRE(plain);
    CHECK(*plain == "secret bytes");
  }
}

TEST_CASE("damaged or unsupported key documents give clear errors")
{
  std::string good = encrypt_cosign_key_json("x", "pw");
  auto check = [](std::string json, const char* expected) {
    auto r = decrypt_cosign_key_json(json, "pw");
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().find(expected) != std::string::npos, r.error());
  };
  check(good.substr(0, good.size() / 2), "corrupted");
  std::string n16 = good;
  n16.replace(n16.find("32768"), 5, "16384");
  check(n16, "unsupported scrypt parameters N=16384");
  std::string aes = good;
  aes.replace(aes.find("nacl/secretbox"), 14, "aes-256-gcm");
  check(aes, "unsupported cipher");
  std::string box = good;
  size_t at = box.find(R"("ciphertext":")") + 14;
  box[at] = box[at] == 'A' ? 'B' : 'A';
  check(box, "wrong password or corrupted");
}

TEST_CASE("a generated key survives the cosign file format under both labels")
{
  PrivateKey key = PrivateKey::generate_p256();
  std::string pem = encrypt_cosign_key_pem(key.pkcs8_der(), "pw");
  CHECK(pem.starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n"));
  for (const auto& line : kiln::split(pem, '\n')) {
    CHECK(line.size() <= 64);
  }
  auto loaded = load_private_key(pem, [] { return kiln::Result<std::string>("pw"); });
  REQUIRE(loaded);
  CHECK(loaded->public_key().spki_der() == key.public_key().spki_der());

  auto blocks = pem_decode_all(pem);
  REQUIRE(blocks);
  std::string sigstore = pem_encode(k_sigstore_key_label, blocks->front().der);
  auto loaded2 = load_private_key(sigstore, [] { return kiln::Result<std::string>("pw"); });
  REQUIRE(loaded2);
  CHECK(loaded2->public_key().spki_der() == key.public_key().spki_der());

  auto wrong = load_private_key(pem, [] { return kiln::Result<std::string>("other"); });
  CHECK_FALSE(wrong);
  auto truncated = load_private_key(pem.substr(0, pem.size() / 2), [] { return kiln::Result<std::string>("pw"); });
  CHECK_FALSE(truncated);
}
