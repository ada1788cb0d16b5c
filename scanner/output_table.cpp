#include "scanner/output.hpp"

#include <fmt/core.h>
#include <map>

namespace kiln::scanner {

std::string to_table(const Report& report)
{
  const auto& cat = report.catalogue;
  std::map<Severity, size_t> counts;
  for (const auto& f : report.findings) {
    ++counts[f.rating.severity];
  }
  std::string out = fmt::format(
      "{}: {} ({}); DB {} {} (built {})\n", report.options.target.empty() ? "rootfs" : report.options.target,
      cat.distro.pretty_name.empty() ? "unknown distro" : cat.distro.pretty_name,
      cat.distro.ecosystem.empty() ? "no OSV ecosystem" : cat.distro.ecosystem, report.db.value("uri", "?"),
      report.db.value("version", "?"), report.db.value("built", "?"));
  out += fmt::format(
      "{} packages, {} findings (CRITICAL {}, HIGH {}, MEDIUM {}, LOW {}, UNKNOWN {}), {} suppressed\n",
      cat.packages.size(), report.findings.size(), counts[Severity::critical], counts[Severity::high],
      counts[Severity::medium], counts[Severity::low], counts[Severity::unknown] + counts[Severity::none],
      report.suppressed.size());
  size_t current = SIZE_MAX;
  for (const auto& f : report.findings) {
    const auto& p = cat.packages[f.package];
    if (f.package != current) {
      current = f.package;
      std::string source;
      if (p.type == PackageType::deb && (p.source_name != p.name || p.source_version != p.version)) {
        source = fmt::format(", source {} {}", p.source_name, p.source_version);
      }
      out += fmt::format("\n{} {} ({}{})  {}\n", p.name, p.version, package_type_name(p.type), source,
                         p.location);
      out += fmt::format("  {:<20} {:<14} {:<22} {:<22} {}\n", "ID", "SEVERITY", "INSTALLED", "FIXED",
                         "ALIASES");
    }
    std::string severity(severity_name(f.rating.severity));
    if (f.rating.score) {
      severity += fmt::format(" {:.1f}", *f.rating.score);
    }
    std::string fixed = f.fixed_in ? *f.fixed_in : "(no fix)";
    if (!f.urgency.empty()) {
      fixed += " [" + f.urgency + "]";
    }
    std::string aliases;
    for (const auto& a : f.aliases) {
      aliases += (aliases.empty() ? "" : ",") + a;
    }
    const std::string& installed = p.type == PackageType::deb ? p.source_version : p.version;
    out += fmt::format("  {:<20} {:<14} {:<22} {:<22} {}\n", f.id, severity, installed, fixed, aliases);
  }
  return out;
}

} // namespace kiln::scanner
