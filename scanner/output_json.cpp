#include "kiln_config.h"
#include "scanner/output.hpp"
#include "scanner/purl.hpp"

#include <map>

namespace kiln::scanner {

using nlohmann::json;

namespace {

json summary(const Report& report)
{
  std::map<std::string, size_t> counts{
      {"CRITICAL", 0}, {"HIGH", 0}, {"MEDIUM", 0}, {"LOW", 0}, {"UNKNOWN", 0}};
  for (const auto& f : report.findings) {
    auto s = f.rating.severity == Severity::none ? Severity::low : f.rating.severity;
    ++counts[std::string(severity_name(s))];
  }
  return counts;
}

json finding_json(const Report& report, const Finding& f)
{
  const auto& p = report.catalogue.packages[f.package];
  json via = json::array();
  if (f.via_versions) {
    via.push_back("versions");
  }
  if (f.via_range) {
    via.push_back("range");
  }
  json out = {
      {"id", f.id},
      {"aliases", f.aliases},
      {"package", p.name},
      {"version", p.version},
      {"purl", purl(p, report.catalogue.distro)},
      {"location", p.location},
      {"ecosystem", f.ecosystem},
      {"severity", severity_name(f.rating.severity)},
      {"fixed_in", f.fixed_in ? json(*f.fixed_in) : json(nullptr)},
      {"state", f.fixed_in ? "fixed" : "affected/unfixed"},
      {"via", via},
      {"summary", f.summary},
  };
  if (p.type == PackageType::deb) {
    out["source"] = p.source_name;
    out["source_version"] = p.source_version;
  }
  if (f.rating.score) {
    out["score"] = *f.rating.score;
  }
  if (!f.rating.vector.empty()) {
    out["vector"] = f.rating.vector;
  }
  if (!f.urgency.empty()) {
    out["urgency"] = f.urgency;
  }
  if (!p.layer.empty()) {
    out["layer"] = p.layer;
  }
  return out;
}

json findings_json(const Report& report)
{
  json out = json::array();
  for (const auto& f : report.findings) {
    out.push_back(finding_json(report, f));
  }
  return out;
}

} // namespace

json to_json(const Report& report)
{
  const auto& cat = report.catalogue;
  json packages = json::array();
  for (const auto& p : cat.packages) {
    json item = {{"type", package_type_name(p.type)}, {"name", p.name},         {"version", p.version},
                 {"purl", purl(p, cat.distro)},       {"location", p.location}, {"layer", p.layer}};
    if (!p.arch.empty()) {
      item["arch"] = p.arch;
    }
    if (p.type == PackageType::deb || p.type == PackageType::apk) {
      item["source"] = p.source_name;
      item["source_version"] = p.source_version;
    }
    if (p.owner) {
      item["owned_by"] = cat.packages[*p.owner].name;
    }
    packages.push_back(item);
  }
  json suppressed = json::array();
  for (const auto& s : report.suppressed) {
    auto item = finding_json(report, s.finding);
    item["suppressed_because"] = s.reason;
    suppressed.push_back(item);
  }
  return {
      {"schema", "kiln.scan/v1"},
      {"scanner", {{"name", "kiln"}, {"version", KILN_VERSION}}},
      {"target", {{"name", report.options.target}, {"digest", report.options.target_digest}}},
      {"distro",
       {{"id", cat.distro.id},
        {"version_id", cat.distro.version_id},
        {"pretty_name", cat.distro.pretty_name},
        {"ecosystem", cat.distro.ecosystem}}},
      {"db", report.db},
      {"started", report.started},
      {"finished", report.finished},
      {"summary", summary(report)},
      {"packages", packages},
      {"findings", findings_json(report)},
      {"suppressed", suppressed},
      {"warnings", report.warnings},
  };
}

json to_cosign_vuln(const Report& report)
{
  json parameters = report.options.invocation.empty() ? json(nullptr) : json(report.options.invocation);
  return {
      {"invocation", {{"parameters", parameters}, {"uri", ""}, {"event_id", ""}, {"builder.id", "kiln"}}},
      {"scanner",
       {{"uri", std::string("pkg:generic/kiln@") + KILN_VERSION},
        {"version", KILN_VERSION},
        {"db", {{"uri", report.db.value("uri", "")}, {"version", report.db.value("version", "")}}},
        {"result",
         {{"schema", "kiln.scan/v1"}, {"summary", summary(report)}, {"findings", findings_json(report)}}}}},
      {"metadata", {{"scanStartedOn", report.started}, {"scanFinishedOn", report.finished}}},
  };
}

} // namespace kiln::scanner
