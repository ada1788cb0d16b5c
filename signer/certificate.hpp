#pragma once

// X.509 certificates for keyless (Fulcio) and BYO-PKI signatures: parsing,
// the identity a certificate vouches for, and chain building to trusted
// roots at a given time (Fulcio leaves live ten minutes, so the time is the
// transparency log's integratedTime, not now).

#include "base/result.hpp"
#include "signer/keys.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;

namespace kiln::signer {

// Fulcio's OIDC issuer extensions: .1.8 (DER UTF8String) and the deprecated .1.1 (raw bytes).
inline constexpr const char* k_oid_issuer_v2 = "1.3.6.1.4.1.57264.1.8";
inline constexpr const char* k_oid_issuer_v1 = "1.3.6.1.4.1.57264.1.1";

class Certificate
{
public:
  static Result<Certificate> from_der(std::string_view der);
  // Every CERTIFICATE block of a PEM text, in order.
  static Result<std::vector<Certificate>> from_pem_all(std::string_view pem);

  std::string der() const;
  Result<PublicKey> public_key() const;
  std::vector<std::string> emails() const;
  std::vector<std::string> uris() const;
  std::vector<std::string> dns_names() const;
  // The OIDC issuer from .1.8 and/or .1.1 (an error when both exist and differ); nullopt when neither.
  Result<std::optional<std::string>> oidc_issuer() const;
  std::string subject() const;
  X509* get() const { return m_cert.get(); }

private:
  explicit Certificate(std::shared_ptr<X509> cert) : m_cert(std::move(cert)) {}
  std::shared_ptr<X509> m_cert;
};

// leaf -> intermediates (untrusted) -> one of roots, every certificate valid
// at unix time at. A trusted intermediate is an anchor too, as Go's
// x509 pools make it.
Result<void> verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                          const std::vector<Certificate>& roots, int64_t at);

} // namespace kiln::signer
