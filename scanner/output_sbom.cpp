#include "kiln_config.h"
#include "scanner/output.hpp"
#include "scanner/purl.hpp"

#include <cctype>
#include <fmt/core.h>
#include <set>

namespace kiln::scanner {

using nlohmann::json;

namespace {

// Both SBOM formats want whole seconds in UTC.
std::string seconds(const std::string& rfc3339)
{
  return rfc3339.size() >= 19 ? rfc3339.substr(0, 19) + "Z" : rfc3339;
}

std::string target_name(const Report& report)
{
  return report.options.target.empty() ? "rootfs" : report.options.target;
}

json advisory_source(const std::string& id)
{
  if (id.starts_with("PYSEC-")) {
    return {{"name", "PyPA"}, {"url", "https://github.com/pypa/advisory-database"}};
  }
  if (id.starts_with("GHSA-")) {
    return {{"name", "GitHub"}, {"url", "https://github.com/advisories/" + id}};
  }
  if (id.starts_with("DSA-") || id.starts_with("DLA-") || id.starts_with("DEBIAN-")) {
    return {{"name", "Debian"}, {"url", "https://security-tracker.debian.org/tracker/" + id}};
  }
  return {{"name", "OSV"}, {"url", "https://osv.dev/vulnerability/" + id}};
}

const char* rating_method(const std::string& vector)
{
  return vector.starts_with("CVSS:3.1/") ? "CVSSv31" : "CVSSv3";
}

} // namespace

json to_cyclonedx(const Report& report)
{
  const auto& cat = report.catalogue;
  json components = json::array();
  json refs = json::array();
  std::vector<std::string> ref_of(cat.packages.size());
  std::set<std::string> used;
  if (!cat.distro.id.empty()) {
    components.push_back({{"type", "operating-system"},
                          {"bom-ref", "os"},
                          {"name", cat.distro.id},
                          {"version", cat.distro.version_id},
                          {"description", cat.distro.pretty_name}});
    refs.push_back("os");
    used.insert("os");
  }
  for (size_t i = 0; i < cat.packages.size(); ++i) {
    const auto& p = cat.packages[i];
    std::string id = purl(p, cat.distro);
    std::string ref = used.count(id) ? fmt::format("{}#{}", id, i) : id; // bom-refs must be unique
    used.insert(ref);
    ref_of[i] = ref;
    json properties = json::array({{{"name", "kiln:location"}, {"value", p.location}}});
    if (!p.layer.empty()) {
      properties.push_back({{"name", "kiln:layer"}, {"value", p.layer}});
    }
    json c = {{"type", "library"},    {"bom-ref", ref}, {"name", p.name},
              {"version", p.version}, {"purl", id},     {"properties", properties}};
    if (!p.licence.empty()) {
      c["licenses"] = json::array({{{"license", {{"name", p.licence}}}}});
    }
    components.push_back(c);
    refs.push_back(ref);
  }
  json vulnerabilities = json::array();
  size_t n = 0;
  for (const auto& f : report.findings) {
    const auto& p = cat.packages[f.package];
    json references = json::array();
    for (const auto& a : f.aliases) {
      references.push_back(
          {{"id", a}, {"source", a.starts_with("CVE-") ? json{{"name", "NVD"}} : advisory_source(a)}});
    }
    json rating = {{"severity",
                    lower_severity(f.rating.severity == Severity::none ? Severity::low : f.rating.severity)}};
    if (f.rating.score) {
      rating["score"] = *f.rating.score;
      rating["method"] = rating_method(f.rating.vector);
      rating["vector"] = f.rating.vector;
    }
    json v = {
        {"bom-ref", fmt::format("v{}", ++n)},
        {"id", f.id},
        {"source", advisory_source(f.id)},
        {"ratings", json::array({rating})},
        {"recommendation", recommendation(report, f)},
        {"affects",
         json::array({{{"ref", ref_of[f.package]},
                       {"versions", json::array({{{"version", p.version}, {"status", "affected"}}})}}})},
        {"analysis", {{"state", "in_triage"}}},
    };
    if (!references.empty()) {
      v["references"] = references;
    }
    if (!f.summary.empty()) {
      v["description"] = f.summary;
    }
    vulnerabilities.push_back(v);
  }
  json component = {{"type", "container"}, {"bom-ref", "image"}, {"name", target_name(report)}};
  if (!report.options.target_digest.empty()) {
    component["version"] = report.options.target_digest;
  }
  return {
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.5"},
      {"serialNumber", "urn:uuid:" + random_uuid()},
      {"version", 1},
      {"metadata",
       {{"timestamp", seconds(report.started)},
        {"tools",
         {{"components",
           json::array({{{"type", "application"}, {"name", "kiln"}, {"version", KILN_VERSION}}})}}},
        {"component", component}}},
      {"components", components},
      {"dependencies", json::array({{{"ref", "image"}, {"dependsOn", refs}}})},
      {"vulnerabilities", vulnerabilities},
  };
}

json to_spdx(const Report& report)
{
  const auto& cat = report.catalogue;
  std::string name = target_name(report);
  std::string slug;
  for (char c : name) {
    slug.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '-');
  }
  json image = {{"SPDXID", "SPDXRef-image"},
                {"name", name},
                {"downloadLocation", "NOASSERTION"},
                {"filesAnalyzed", false},
                {"primaryPackagePurpose", "CONTAINER"}};
  if (!report.options.target_digest.empty()) {
    image["versionInfo"] = report.options.target_digest;
  }
  json packages = json::array({image});
  json relationships = json::array({{{"spdxElementId", "SPDXRef-DOCUMENT"},
                                     {"relationshipType", "DESCRIBES"},
                                     {"relatedSpdxElement", "SPDXRef-image"}}});
  for (size_t i = 0; i < cat.packages.size(); ++i) {
    const auto& p = cat.packages[i];
    // SPDXIDs allow only [A-Za-z0-9.-]: a counter keeps them valid and unique.
    std::string id = fmt::format("SPDXRef-{}-{}",
                                 p.type == PackageType::deb      ? "deb"
                                 : p.type == PackageType::apk    ? "apk"
                                 : p.type == PackageType::python ? "pypi"
                                                                 : "npm",
                                 i + 1);
    json item = {{"SPDXID", id},
                 {"name", p.name},
                 {"versionInfo", p.version},
                 {"downloadLocation", "NOASSERTION"},
                 {"filesAnalyzed", false},
                 {"externalRefs", json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                                {"referenceType", "purl"},
                                                {"referenceLocator", purl(p, cat.distro)}}})}};
    if (p.type == PackageType::deb) {
      item["supplier"] = "Organization: Debian";
      item["sourceInfo"] = fmt::format("built package from: {} {}", p.source_name, p.source_version);
    }
    packages.push_back(item);
    relationships.push_back(
        {{"spdxElementId", "SPDXRef-image"}, {"relationshipType", "CONTAINS"}, {"relatedSpdxElement", id}});
  }
  return {
      {"spdxVersion", "SPDX-2.3"},
      {"dataLicense", "CC0-1.0"},
      {"SPDXID", "SPDXRef-DOCUMENT"},
      {"name", name},
      {"documentNamespace", fmt::format("https://kiln.invalid/spdx/{}-{}", slug, random_uuid())},
      {"creationInfo",
       {{"created", seconds(report.started)},
        {"creators", json::array({std::string("Tool: kiln-") + KILN_VERSION})}}},
      {"packages", packages},
      {"relationships", relationships},
  };
}

} // namespace kiln::scanner
