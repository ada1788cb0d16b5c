#include "signer/cosign_key.hpp"

#include "base/strings.hpp"
#include "signer/pem.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

namespace kiln::signer {

namespace {

constexpr unsigned long long k_scrypt_r = 8;
constexpr unsigned long long k_scrypt_p = 1;
constexpr size_t k_salt_size = 32;

void init_sodium()
{
  if (sodium_init() < 0) {
    throw std::runtime_error("libsodium failed to initialise");
  }
}

std::string derive(std::string_view password, std::string_view salt, unsigned long long n)
{
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  if (crypto_pwhash_scryptsalsa208sha256_ll(reinterpret_cast<const uint8_t*>(password.data()),
                                            password.size(), reinterpret_cast<const uint8_t*>(salt.data()),
                                            salt.size(), n, k_scrypt_r, k_scrypt_p,
                                            reinterpret_cast<uint8_t*>(key.data()), key.size()) != 0) {
    throw std::runtime_error("scrypt: out of memory");
  }
  return key;
}

} // namespace

std::string encrypt_cosign_key_json(std::string_view plaintext, std::string_view password,
                                    unsigned long long scrypt_n)
{
  init_sodium();
  std::string salt(k_salt_size, '\0');
  std::string nonce(crypto_secretbox_NONCEBYTES, '\0');
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  std::string key = derive(password, salt, scrypt_n);
  std::string box(plaintext.size() + crypto_secretbox_MACBYTES, '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        reinterpret_cast<const unsigned char*>(nonce.data()),
                        reinterpret_cast<const unsigned char*>(key.data()));
  sodium_memzero(key.data(), key.size());
  // Key order and spelling as go-securesystemslib marshals it.
  return fmt::format(R"({{"kdf":{{"name":"scrypt","params":{{"N":{},"r":{},"p":{}}},"salt":"{}"}},)"
                     R"("cipher":{{"name":"nacl/secretbox","nonce":"{}"}},"ciphertext":"{}"}})",
                     scrypt_n, k_scrypt_r, k_scrypt_p, base64_encode(salt), base64_encode(nonce),
                     base64_encode(box));
}

std::string encrypt_cosign_key_pem(std::string_view pkcs8_der, std::string_view password)
{
  return pem_encode(k_cosign_key_label, encrypt_cosign_key_json(pkcs8_der, password));
}

Result<std::string> decrypt_cosign_key_json(std::string_view json, std::string_view password)
{
  init_sodium();
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail("encrypted key is not a JSON document (corrupted key file)");
  }
  std::string salt, nonce, box;
  unsigned long long n = 0, r = 0, p = 0;
  try {
    const auto& kdf = doc.at("kdf");
    if (kdf.at("name").get<std::string>() != "scrypt") {
      return fail(fmt::format("unsupported key derivation \"{}\"", kdf.at("name").get<std::string>()));
    }
    const auto& params = kdf.at("params");
    n = params.at("N").get<unsigned long long>();
    r = params.at("r").get<unsigned long long>();
    p = params.at("p").get<unsigned long long>();
    if (doc.at("cipher").at("name").get<std::string>() != "nacl/secretbox") {
      return fail(fmt::format("unsupported cipher \"{}\"", doc.at("cipher").at("name").get<std::string>()));
    }
    auto s = base64_decode(kdf.at("salt").get<std::string>());
    auto nc = base64_decode(doc.at("cipher").at("nonce").get<std::string>());
    auto c = base64_decode(doc.at("ciphertext").get<std::string>());
    if (!s || !nc || !c) {
      return fail("encrypted key has invalid base64 (corrupted key file)");
    }
    salt = *s;
    nonce = *nc;
    box = *c;
  } catch (const nlohmann::json::exception&) {
    return fail("encrypted key lacks a field or has one of the wrong type (corrupted key file)");
  }
  // The three strengths cosign and go-securesystemslib write; anything else
  // is refused rather than spending unbounded memory on a hostile file.
  if ((n != 32768 && n != 65536 && n != 131072) || r != k_scrypt_r || p != k_scrypt_p) {
    return fail(fmt::format("unsupported scrypt parameters N={} r={} p={}", n, r, p));
  }
  if (nonce.size() != crypto_secretbox_NONCEBYTES || box.size() < crypto_secretbox_MACBYTES) {
    return fail("encrypted key has a bad nonce or ciphertext length (corrupted key file)");
  }
  std::string key = derive(password, salt, n);
  std::string plaintext(box.size() - crypto_secretbox_MACBYTES, '\0');
  int rc = crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plaintext.data()),
                                      reinterpret_cast<const unsigned char*>(box.data()), box.size(),
                                      reinterpret_cast<const unsigned char*>(nonce.data()),
                                      reinterpret_cast<const unsigned char*>(key.data()));
  sodium_memzero(key.data(), key.size());
  if (rc != 0) {
    return fail("decryption failed: wrong password or corrupted key file");
  }
  return plaintext;
}

} // namespace kiln::signer
