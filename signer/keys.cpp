#include "signer/keys.hpp"

#include "base/strings.hpp"
#include "oci/digest.hpp"
#include "signer/cosign_key.hpp"
#include "signer/pem.hpp"

#include <fmt/core.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace kiln::signer {

namespace {

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key)
{
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

std::string openssl_error()
{
  unsigned long err = ERR_get_error();
  ERR_clear_error();
  if (err == 0) {
    return "unknown OpenSSL error";
  }
  char buffer[256];
  ERR_error_string_n(err, buffer, sizeof(buffer));
  return buffer;
}

std::string curve_name(EVP_PKEY* key)
{
  char name[64] = {};
  size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &length) != 1) {
    return "";
  }
  return name;
}

// Only keys kiln can use the same way cosign and containers/image do.
Result<void> check_algorithm(EVP_PKEY* key)
{
  switch (EVP_PKEY_get_base_id(key)) {
  case EVP_PKEY_EC: {
    std::string curve = curve_name(key);
    if (curve != "prime256v1" && curve != "secp384r1" && curve != "secp521r1") {
      return fail(fmt::format("unsupported elliptic curve {}", curve.empty() ? "(unnamed)" : curve));
    }
    return {};
  }
  case EVP_PKEY_RSA:
    if (EVP_PKEY_get_bits(key) < 2048) {
      return fail(fmt::format("RSA key of {} bits is too weak", EVP_PKEY_get_bits(key)));
    }
    return {};
  default:
    return fail(fmt::format("unsupported key algorithm {}", OBJ_nid2sn(EVP_PKEY_get_base_id(key))));
  }
}

template <typename F> Result<EVP_PKEY*> parse_der(std::string_view der, F parse)
{
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* key = parse(&p, static_cast<long>(der.size()));
  if (key == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(key);
    ERR_clear_error();
    return fail("malformed DER");
  }
  return key;
}

} // namespace

Result<PublicKey> PublicKey::from_spki_der(std::string_view der)
{
  auto key = parse_der(der, [](const unsigned char** p, long n) { return d2i_PUBKEY(nullptr, p, n); });
  if (!key) {
    return fail("public key: " + key.error());
  }
  return checked(*key);
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem)
{
  auto blocks = pem_decode_all(pem);
  if (!blocks) {
    return fail(blocks.error());
  }
  const PemBlock& block = blocks->front();
  if (block.label == "PUBLIC KEY") {
    return from_spki_der(block.der);
  }
  if (block.label == "RSA PUBLIC KEY") {
    auto key = parse_der(block.der, [](const unsigned char** p, long n) {
      return d2i_PublicKey(EVP_PKEY_RSA, nullptr, p, n);
    });
    if (!key) {
      return fail("RSA public key: " + key.error());
    }
    return checked(*key);
  }
  return fail(fmt::format("PEM block \"{}\" is not a public key", block.label));
}

Result<PublicKey> PublicKey::checked(EVP_PKEY* key)
{
  PublicKey result(own(key));
  if (auto ok = check_algorithm(key); !ok) {
    return fail(ok.error());
  }
  return result;
}

PublicKey PublicKey::adopt(EVP_PKEY* key)
{
  EVP_PKEY_up_ref(key);
  return PublicKey(own(key));
}

std::string PublicKey::spki_der() const
{
  unsigned char* der = nullptr;
  int size = i2d_PUBKEY(m_key.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size > 0 ? size : 0));
  OPENSSL_free(der);
  return out;
}

std::string PublicKey::pem() const
{
  return pem_encode("PUBLIC KEY", spki_der());
}

std::string PublicKey::hint() const
{
  std::string der = spki_der();
  unsigned char md[32];
  EVP_Digest(der.data(), der.size(), md, nullptr, EVP_sha256(), nullptr);
  return base64_encode(std::string_view(reinterpret_cast<char*>(md), sizeof(md)));
}

std::string PublicKey::describe() const
{
  std::string kind;
  if (EVP_PKEY_get_base_id(m_key.get()) == EVP_PKEY_EC) {
    std::string curve = curve_name(m_key.get());
    kind = curve == "prime256v1" ? "ECDSA P-256" : curve == "secp384r1" ? "ECDSA P-384" : "ECDSA " + curve;
  } else {
    kind = fmt::format("RSA-{}", EVP_PKEY_get_bits(m_key.get()));
  }
  return fmt::format("{} key SHA256:{}", kind, hint());
}

Result<void> PublicKey::verify(std::string_view data, std::string_view signature) const
{
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, m_key.get()) != 1) {
    return fail("verify: " + openssl_error());
  }
  if (EVP_PKEY_get_base_id(m_key.get()) == EVP_PKEY_RSA) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  }
  // OpenSSL's ECDSA verifier re-encodes the parsed signature and compares,
  // so only strict DER passes; high-S values are accepted, as Go does.
  int rc =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  if (rc != 1) {
    return fail(fmt::format("signature does not verify with {}", describe()));
  }
  return {};
}

PrivateKey PrivateKey::adopt(EVP_PKEY* key)
{
  return PrivateKey(own(key));
}

PrivateKey PrivateKey::generate_p256()
{
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) {
    throw std::runtime_error("generate ECDSA P-256 key: " + openssl_error());
  }
  return PrivateKey(own(key));
}

Result<PrivateKey> PrivateKey::from_pkcs8_der(std::string_view der)
{
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  if (info == nullptr) {
    ERR_clear_error();
    return fail("malformed PKCS#8 private key");
  }
  EVP_PKEY* key = EVP_PKCS82PKEY(info);
  PKCS8_PRIV_KEY_INFO_free(info);
  if (key == nullptr) {
    return fail("PKCS#8 private key: " + openssl_error());
  }
  PrivateKey result(own(key));
  if (auto ok = check_algorithm(key); !ok) {
    return fail(ok.error());
  }
  return result;
}

std::string PrivateKey::pkcs8_der() const
{
  PKCS8_PRIV_KEY_INFO* info = EVP_PKEY2PKCS8(m_key.get());
  unsigned char* der = nullptr;
  int size = i2d_PKCS8_PRIV_KEY_INFO(info, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size > 0 ? size : 0));
  OPENSSL_clear_free(der, static_cast<size_t>(size > 0 ? size : 0));
  PKCS8_PRIV_KEY_INFO_free(info);
  return out;
}

PublicKey PrivateKey::public_key() const
{
  return PublicKey::adopt(m_key.get());
}

Result<std::string> PrivateKey::sign(std::string_view data) const
{
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, m_key.get()) != 1) {
    return fail("sign: " + openssl_error());
  }
  if (EVP_PKEY_get_base_id(m_key.get()) == EVP_PKEY_RSA) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
  }
  size_t size = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &size, in, data.size()) != 1) {
    return fail("sign: " + openssl_error());
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size, in, data.size()) !=
      1) {
    return fail("sign: " + openssl_error());
  }
  signature.resize(size);
  return signature;
}

Result<PrivateKey> load_private_key(std::string_view pem, const PasswordSource& password)
{
  auto blocks = pem_decode_all(pem);
  if (!blocks) {
    return fail(blocks.error());
  }
  const PemBlock& block = blocks->front();
  if (block.label == k_cosign_key_label || block.label == k_sigstore_key_label) {
    auto secret = password();
    if (!secret) {
      return fail(secret.error());
    }
    auto der = decrypt_cosign_key_json(block.der, *secret);
    if (!der) {
      return fail(der.error());
    }
    auto key = PrivateKey::from_pkcs8_der(*der);
    OPENSSL_cleanse(der->data(), der->size());
    return key;
  }
  if (block.label == "PRIVATE KEY") {
    return PrivateKey::from_pkcs8_der(block.der);
  }
  if (block.label == "EC PRIVATE KEY") {
    auto key = parse_der(block.der, [](const unsigned char** p, long n) {
      return d2i_PrivateKey(EVP_PKEY_EC, nullptr, p, n);
    });
    if (!key) {
      return fail("SEC1 EC private key: " + key.error());
    }
    PrivateKey result = PrivateKey::adopt(*key);
    if (auto ok = check_algorithm(*key); !ok) {
      return fail(ok.error());
    }
    return result;
  }
  if (block.label == "ENCRYPTED PRIVATE KEY" || block.label == "RSA PRIVATE KEY") {
    return fail(fmt::format("PEM block \"{}\" is not supported (use a cosign key or PKCS#8)", block.label));
  }
  return fail(fmt::format("PEM block \"{}\" is not a private key", block.label));
}

} // namespace kiln::signer
