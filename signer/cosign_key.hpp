#pragma once

// cosign's encrypted private key file (go-securesystemslib "encrypted"):
//
//   -----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----      (or ENCRYPTED SIGSTORE)
//   base64 of {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<b64 32 bytes>"},
//              "cipher":{"name":"nacl/secretbox","nonce":"<b64 24 bytes>"},"ciphertext":"<b64>"}
//   -----END ENCRYPTED COSIGN PRIVATE KEY-----
//
// key = scrypt(password, salt, N, r=8, p=1, 32 bytes); ciphertext is the
// secretbox layout Poly1305 tag || XSalsa20 ciphertext; the plaintext is a
// PKCS#8 DER private key.

#include "base/result.hpp"

#include <string>
#include <string_view>

namespace kiln::signer {

inline constexpr std::string_view k_cosign_key_label = "ENCRYPTED COSIGN PRIVATE KEY";
inline constexpr std::string_view k_sigstore_key_label = "ENCRYPTED SIGSTORE PRIVATE KEY";
// The work factor every cosign and containers/image release can read.
inline constexpr unsigned long long k_scrypt_n = 32768;

// The JSON document (the PEM block's content) for plaintext.
std::string encrypt_cosign_key_json(std::string_view plaintext, std::string_view password,
                                    unsigned long long scrypt_n = k_scrypt_n);
// The whole PEM file (COSIGN label) for a PKCS#8 DER key.
std::string encrypt_cosign_key_pem(std::string_view pkcs8_der, std::string_view password);
// The plaintext; errors say which of format, parameters or password is wrong.
Result<std::string> decrypt_cosign_key_json(std::string_view json, std::string_view password);

} // namespace kiln::signer
