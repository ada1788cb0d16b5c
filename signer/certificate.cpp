#include "signer/certificate.hpp"

#include "base/strings.hpp"
#include "signer/pem.hpp"

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace kiln::signer {

namespace {

std::vector<std::string> san_values(X509* cert, int type)
{
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == type) {
      const ASN1_IA5STRING* value = name->d.ia5;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                       static_cast<size_t>(ASN1_STRING_length(value)));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::optional<std::string> extension_bytes(X509* cert, const char* oid)
{
  ASN1_OBJECT* object = OBJ_txt2obj(oid, 1);
  int index = X509_get_ext_by_OBJ(cert, object, -1);
  ASN1_OBJECT_free(object);
  if (index < 0) {
    return std::nullopt;
  }
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, index));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                     static_cast<size_t>(ASN1_STRING_length(data)));
}

} // namespace

Result<Certificate> Certificate::from_der(std::string_view der)
{
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (cert == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(cert);
    ERR_clear_error();
    return fail("malformed X.509 certificate");
  }
  return Certificate(std::shared_ptr<X509>(cert, X509_free));
}

Result<std::vector<Certificate>> Certificate::from_pem_all(std::string_view pem)
{
  auto blocks = pem_decode_all(pem);
  if (!blocks) {
    return fail("certificates: " + blocks.error());
  }
  std::vector<Certificate> out;
  for (const auto& block : *blocks) {
    if (block.label != "CERTIFICATE") {
      return fail(fmt::format("PEM block \"{}\" is not a certificate", block.label));
    }
    auto cert = from_der(block.der);
    if (!cert) {
      return fail(cert.error());
    }
    out.push_back(std::move(*cert));
  }
  return out;
}

std::string Certificate::der() const
{
  unsigned char* der = nullptr;
  int size = i2d_X509(m_cert.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(size > 0 ? size : 0));
  OPENSSL_free(der);
  return out;
}

Result<PublicKey> Certificate::public_key() const
{
  EVP_PKEY* key = X509_get0_pubkey(m_cert.get());
  if (key == nullptr) {
    return fail("certificate has an unreadable public key");
  }
  return PublicKey::from_spki_der(PublicKey::adopt(key).spki_der());
}

std::vector<std::string> Certificate::emails() const
{
  return san_values(m_cert.get(), GEN_EMAIL);
}

std::vector<std::string> Certificate::uris() const
{
  return san_values(m_cert.get(), GEN_URI);
}

std::vector<std::string> Certificate::dns_names() const
{
  return san_values(m_cert.get(), GEN_DNS);
}

Result<std::optional<std::string>> Certificate::oidc_issuer() const
{
  std::optional<std::string> v2;
  if (auto raw = extension_bytes(m_cert.get(), k_oid_issuer_v2)) {
    const auto* p = reinterpret_cast<const unsigned char*>(raw->data());
    ASN1_UTF8STRING* text = d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(raw->size()));
    if (text == nullptr) {
      ERR_clear_error();
      return fail(fmt::format("certificate issuer extension {} is not a UTF8String", k_oid_issuer_v2));
    }
    v2 = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<size_t>(ASN1_STRING_length(text)));
    ASN1_UTF8STRING_free(text);
  }
  auto v1 = extension_bytes(m_cert.get(), k_oid_issuer_v1);
  if (v1 && v2 && *v1 != *v2) {
    return fail(fmt::format("certificate issuer extensions disagree (\"{}\" and \"{}\")", *v2, *v1));
  }
  return v2 ? v2 : v1;
}

std::string Certificate::subject() const
{
  char buffer[512];
  X509_NAME_oneline(X509_get_subject_name(m_cert.get()), buffer, sizeof(buffer));
  return buffer;
}

Result<void> verify_chain(const Certificate& leaf, const std::vector<Certificate>& intermediates,
                          const std::vector<Certificate>& roots, int64_t at)
{
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  for (const auto& root : roots) {
    X509_STORE_add_cert(store.get(), root.get());
  }
  auto free_stack = [](STACK_OF(X509) * stack) { sk_X509_free(stack); };
  std::unique_ptr<STACK_OF(X509), decltype(free_stack)> untrusted(sk_X509_new_null(), free_stack);
  for (const auto& cert : intermediates) {
    sk_X509_push(untrusted.get(), cert.get());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return fail("certificate chain: out of memory");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  int ok = X509_verify_cert(ctx.get());
  int error = X509_STORE_CTX_get_error(ctx.get());
  ERR_clear_error();
  if (ok != 1) {
    std::vector<std::string> names = leaf.emails();
    std::string who = !leaf.subject().empty() ? leaf.subject()
                      : !names.empty()        ? names.front()
                                              : "(no subject)";
    return fail(fmt::format("certificate {} does not chain to a trusted root at {}: {}", who, rfc3339_utc(at),
                            X509_verify_cert_error_string(error)));
  }
  return {};
}

} // namespace kiln::signer
