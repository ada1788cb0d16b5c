#pragma once

// Signing keys. kiln writes ECDSA P-256 keys and signs with ECDSA over
// SHA-256 (ASN.1 DER signatures); it verifies ECDSA and RSA PKCS#1 v1.5
// (BYO-PKI certificates), always over SHA-256.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace kiln::signer {

class PublicKey
{
public:
  // The first PEM block: "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY" (PKCS#1).
  static Result<PublicKey> from_pem(std::string_view pem);
  static Result<PublicKey> from_spki_der(std::string_view der);
  static PublicKey adopt(EVP_PKEY* key); // takes a reference

  std::string spki_der() const;
  std::string pem() const;
  // base64(sha256(SPKI DER)): cosign's key hint and the Rekor log id.
  std::string hint() const;
  // "ECDSA P-256 key SHA256:<hint>" for messages.
  std::string describe() const;
  Result<void> verify(std::string_view data, std::string_view signature) const;
  EVP_PKEY* get() const { return m_key.get(); }

private:
  static Result<PublicKey> checked(EVP_PKEY* key); // takes ownership
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : m_key(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> m_key;
};

class PrivateKey
{
public:
  static PrivateKey generate_p256();
  static Result<PrivateKey> from_pkcs8_der(std::string_view der);
  static PrivateKey adopt(EVP_PKEY* key); // takes ownership

  std::string pkcs8_der() const;
  PublicKey public_key() const;
  // ECDSA (DER) or RSA PKCS#1 v1.5 over SHA-256 of data.
  Result<std::string> sign(std::string_view data) const;
  EVP_PKEY* get() const { return m_key.get(); }

private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : m_key(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> m_key;
};

// Asked only when the key file is encrypted, so a plain key needs no password.
using PasswordSource = std::function<Result<std::string>()>;

// Reads a private key file's text: an encrypted cosign key (either label),
// PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY".
Result<PrivateKey> load_private_key(std::string_view pem, const PasswordSource& password);

} // namespace kiln::signer
