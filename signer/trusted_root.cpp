#include "signer/trusted_root.hpp"

#include "base/strings.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace kiln::signer {

Result<TrustedRoot> parse_trusted_root(std::string_view json)
{
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail("trusted root is not a JSON object");
  }
  std::string media_type = doc.value("mediaType", "");
  if (!media_type.starts_with("application/vnd.dev.sigstore.trustedroot")) {
    return fail(fmt::format("trusted root has media type \"{}\"", media_type));
  }
  TrustedRoot root;
  try {
    for (const auto& tlog : doc.value("tlogs", nlohmann::json::array())) {
      auto der = base64_decode(tlog.at("publicKey").at("rawBytes").get<std::string>());
      if (!der) {
        return fail("trusted root: a tlog key is not base64");
      }
      auto key = PublicKey::from_spki_der(*der);
      if (!key) {
        return fail("trusted root tlog key: " + key.error());
      }
      root.rekor_keys.push_back(std::move(*key));
    }
    for (const auto& ca : doc.value("certificateAuthorities", nlohmann::json::array())) {
      for (const auto& entry : ca.at("certChain").at("certificates")) {
        auto der = base64_decode(entry.at("rawBytes").get<std::string>());
        if (!der) {
          return fail("trusted root: a certificate is not base64");
        }
        auto cert = Certificate::from_der(*der);
        if (!cert) {
          return fail("trusted root: " + cert.error());
        }
        root.ca_certificates.push_back(std::move(*cert));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("trusted root: {}", e.what()));
  }
  return root;
}

} // namespace kiln::signer
