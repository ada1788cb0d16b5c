#include "scanner/purl.hpp"

#include "base/strings.hpp"
#include "scanner/version_pep440.hpp"

#include <fmt/core.h>
#include <map>

namespace kiln::scanner {

std::string purl_encode(std::string_view text)
{
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
        c == '_' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

namespace {

std::string qualifiers(const std::map<std::string, std::string>& q)
{
  std::string out;
  for (const auto& [key, value] : q) { // std::map keeps the keys sorted
    if (!value.empty()) {
      out += (out.empty() ? "?" : "&") + key + "=" + purl_encode(value);
    }
  }
  return out;
}

} // namespace

std::string purl(const Package& p, const Distro& distro)
{
  switch (p.type) {
  case PackageType::deb:
  case PackageType::apk: {
    std::map<std::string, std::string> q{{"arch", p.arch}};
    if (!distro.id.empty() && !distro.version_id.empty()) {
      q["distro"] = distro.id + "-" + distro.version_id;
    }
    if (p.source_name != p.name || p.source_version != p.version) {
      q["upstream"] = p.source_version != p.version ? p.source_name + "@" + p.source_version : p.source_name;
    }
    std::string ns = p.type == PackageType::deb
                         ? "deb/" + (distro.id.empty() ? std::string("debian") : to_lower(distro.id))
                         : "apk/" + (distro.id.empty() ? std::string("alpine") : to_lower(distro.id));
    return fmt::format("pkg:{}/{}@{}{}", ns, purl_encode(to_lower(p.name)), purl_encode(p.version),
                       qualifiers(q));
  }
  case PackageType::python:
    return fmt::format("pkg:pypi/{}@{}", purl_encode(pep503_name(p.name)), purl_encode(p.version));
  case PackageType::npm:
    if (p.name.starts_with("@") && p.name.find('/') != std::string::npos) {
      auto slash = p.name.find('/');
      return fmt::format("pkg:npm/{}/{}@{}", purl_encode(p.name.substr(0, slash)),
                         purl_encode(p.name.substr(slash + 1)), purl_encode(p.version));
    }
    return fmt::format("pkg:npm/{}@{}", purl_encode(p.name), purl_encode(p.version));
  }
  return {};
}

} // namespace kiln::scanner
