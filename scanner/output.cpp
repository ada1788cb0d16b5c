#include "scanner/output.hpp"

#include "base/error.hpp"
#include "base/strings.hpp"
#include "scanner/package.hpp"

#include <openssl/rand.h>

namespace kiln::scanner {

std::optional<Format> parse_format(std::string_view name)
{
  if (name == "table") {
    return Format::table;
  }
  if (name == "json") {
    return Format::json;
  }
  if (name == "sarif") {
    return Format::sarif;
  }
  if (name == "cyclonedx") {
    return Format::cyclonedx;
  }
  if (name == "spdx") {
    return Format::spdx;
  }
  if (name == "cosign-vuln") {
    return Format::cosign_vuln;
  }
  return std::nullopt;
}

std::string render(const Report& report, Format format)
{
  switch (format) {
  case Format::table:
    return to_table(report);
  case Format::json:
    return to_json(report).dump() + "\n";
  case Format::sarif:
    return to_sarif(report).dump() + "\n";
  case Format::cyclonedx:
    return to_cyclonedx(report).dump() + "\n";
  case Format::spdx:
    return to_spdx(report).dump() + "\n";
  case Format::cosign_vuln:
    return to_cosign_vuln(report).dump() + "\n";
  }
  return {};
}

std::string random_uuid()
{
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw Fatal("make a UUID: OpenSSL's random generator failed");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  std::string hex = hex_encode(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string lower_severity(Severity severity)
{
  return to_lower(severity_name(severity));
}

std::string recommendation(const Report& report, const Finding& finding)
{
  const auto& p = report.catalogue.packages[finding.package];
  if (!finding.fixed_in) {
    return "No fix available";
  }
  const std::string& name = p.type == PackageType::deb ? p.source_name : p.name;
  return "Upgrade " + name + " to " + *finding.fixed_in;
}

} // namespace kiln::scanner
