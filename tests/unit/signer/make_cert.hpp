#pragma once

// Test certificates made with OpenSSL: a CA and leaves with chosen SANs and
// Fulcio issuer extensions, for cases no fixture covers.

#include <map>
#include <string>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "signer/certificate.hpp"
#include "signer/keys.hpp"

struct CertSpec
{
  std::string common_name;
  std::string email;                          // rfc822Name SAN
  std::map<std::string, std::string> raw_ext; // OID -> extension value bytes
  bool ca = false;
  long not_before = -3600; // seconds from now
  long not_after = 3600;
};

inline kiln::signer::Certificate make_cert(const CertSpec& spec, const kiln::signer::PrivateKey& subject_key,
                                           const kiln::signer::PrivateKey& issuer_key, X509* issuer = nullptr)
{
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert, issuer != nullptr ? X509_get_subject_name(issuer) : name);
  X509_set_pubkey(cert, subject_key.public_key().get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  };
  add(NID_basic_constraints, spec.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (spec.ca) {
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  if (!spec.email.empty()) {
    add(NID_subject_alt_name, "email:" + spec.email);
  }
  for (const auto& [oid, bytes] : spec.raw_ext) {
    ASN1_OBJECT* obj = OBJ_txt2obj(oid.c_str(), 1);
    ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(data, reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(data);
    ASN1_OBJECT_free(obj);
  }
  X509_sign(cert, issuer_key.get(), EVP_sha256());
  unsigned char* der = nullptr;
  int size = i2d_X509(cert, &der);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(size));
  OPENSSL_free(der);
  X509_free(cert);
  return *kiln::signer::Certificate::from_der(bytes);
}
