#include "base/strings.hpp"
#include "kiln_config.h"
#include "scanner/output.hpp"

#include <fmt/core.h>
#include <map>

namespace kiln::scanner {

using nlohmann::json;

namespace {

const char* level(Severity s)
{
  switch (s) {
  case Severity::critical:
  case Severity::high:
    return "error";
  case Severity::medium:
    return "warning";
  default:
    return "note";
  }
}

// GitHub maps this string to its own bands; without a CVSS score kiln
// uses a representative value per band, and none for UNKNOWN.
std::optional<std::string> security_severity(const Rating& r)
{
  if (r.score) {
    return fmt::format("{:.1f}", *r.score);
  }
  switch (r.severity) {
  case Severity::critical:
    return "9.5";
  case Severity::high:
    return "8.0";
  case Severity::medium:
    return "5.5";
  case Severity::low:
    return "2.0";
  default:
    return std::nullopt;
  }
}

} // namespace

json to_sarif(const Report& report)
{
  const auto& packages = report.catalogue.packages;
  json rules = json::array();
  std::map<std::string, size_t> rule_index;
  json results = json::array();
  for (const auto& f : report.findings) {
    const auto& p = packages[f.package];
    std::string cve;
    for (const auto& a : f.aliases) {
      if (a.starts_with("CVE-")) {
        cve = a;
        break;
      }
    }
    auto [it, fresh] = rule_index.emplace(f.id, rules.size());
    if (fresh) {
      std::string title = f.summary.empty() ? f.id : f.summary;
      std::string ecosystem = to_lower(split(f.ecosystem, ':')[0]);
      json properties = {{"tags", {"security", "vulnerability", ecosystem}}};
      if (auto s = security_severity(f.rating)) {
        properties["security-severity"] = *s;
      }
      std::string fix =
          f.fixed_in ? fmt::format("Upgrade {} to {}", p.name, *f.fixed_in) : "No fix is available yet";
      std::string fix_md = f.fixed_in ? fmt::format("Upgrade **{}** to {}", p.name, *f.fixed_in) : fix;
      rules.push_back({
          {"id", f.id},
          {"shortDescription",
           {{"text", fmt::format("{}: {}{}", p.name, title, cve.empty() ? "" : " (" + cve + ")")}}},
          {"fullDescription", {{"text", f.details.empty() ? title : f.details}}},
          {"helpUri", "https://osv.dev/vulnerability/" + f.id},
          {"help", {{"text", fix}, {"markdown", fix_md}}},
          {"properties", properties},
      });
    }
    std::string message = fmt::format("{} {} is affected by {}{}. {}", p.name, p.version, f.id,
                                      cve.empty() ? "" : " (" + cve + ")",
                                      f.fixed_in ? "Fixed in " + *f.fixed_in + "." : "No fix is available.");
    results.push_back({
        {"ruleId", f.id},
        {"ruleIndex", it->second},
        {"level", level(f.rating.severity)},
        {"message", {{"text", message}}},
        {"locations",
         {{{"physicalLocation",
            {{"artifactLocation", {{"uri", p.location}}}, {"region", {{"startLine", 1}}}}}}}},
    });
  }
  std::string target = report.options.target.empty() ? "rootfs" : report.options.target;
  return {
      {"version", "2.1.0"},
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"runs",
       {{
           {"tool",
            {{"driver",
              {{"name", "kiln"},
               {"version", KILN_VERSION},
               {"informationUri", "https://example.invalid/kiln"},
               {"rules", rules}}}}},
           {"automationDetails", {{"id", "kiln/" + target + "/"}}},
           {"results", results},
       }}},
  };
}

} // namespace kiln::scanner
