#include "scanner/catalogue.hpp"
#include "scanner/match.hpp"
#include "scanner/report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fmt/core.h>
#include <set>

namespace kiln::scanner {

std::string now_rfc3339_ms()
{
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

namespace {

std::optional<Query> query_for(const Package& p, const Distro& distro)
{
  switch (p.type) {
  case PackageType::deb:
    if (distro.id != "debian" || distro.ecosystem.empty()) {
      return std::nullopt;
    }
    return Query{distro.ecosystem, Ecosystem::debian, p.source_name, p.source_version};
  case PackageType::python:
    return Query{"PyPI", Ecosystem::pypi, normalise_name(Ecosystem::pypi, p.name), p.version};
  case PackageType::npm:
    return Query{"npm", Ecosystem::npm, p.name, p.version};
  case PackageType::apk:
    break;
  }
  return std::nullopt;
}

bool shares_id(const Finding& a, const Finding& b)
{
  auto ids = [](const Finding& f) {
    std::set<std::string> out(f.aliases.begin(), f.aliases.end());
    out.insert(f.id);
    return out;
  };
  auto x = ids(a);
  for (const auto& id : ids(b)) {
    if (x.count(id)) {
      return true;
    }
  }
  return false;
}

// Records that share an id or alias (PYSEC plus GHSA for one CVE) are one
// vulnerability: the first keeps its id, the others become aliases.
void merge_aliases(std::vector<Finding>& findings)
{
  std::vector<Finding> out;
  for (auto& f : findings) {
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Finding& g) { return g.package == f.package && shares_id(g, f); });
    if (same == out.end()) {
      out.push_back(std::move(f));
      continue;
    }
    for (const auto& id : f.aliases) {
      if (id != same->id &&
          std::find(same->aliases.begin(), same->aliases.end(), id) == same->aliases.end()) {
        same->aliases.push_back(id);
      }
    }
    if (std::find(same->aliases.begin(), same->aliases.end(), f.id) == same->aliases.end()) {
      same->aliases.push_back(f.id);
    }
    if (f.rating.severity > same->rating.severity) {
      same->rating = f.rating;
    }
  }
  findings = std::move(out);
}

// Days since the civil date at the start of an RFC 3339 string; nullopt when it has none.
std::optional<long> age_in_days(const std::string& timestamp, const std::string& today)
{
  auto day = [](const std::string& text) -> std::optional<long> {
    std::tm tm{};
    if (text.size() < 10 ||
        std::sscanf(text.c_str(), "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
      return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<long>(timegm(&tm) / 86400);
  };
  auto then = day(timestamp);
  auto now = day(today);
  if (!then || !now) {
    return std::nullopt;
  }
  return *now - *then;
}

const IgnoreRule* ignore_rule(const Finding& f, const Package& p, const ScanOptions& options,
                              const std::string& today)
{
  for (const auto& rule : options.ignores.rules) {
    if (expired(rule, today) || (!rule.package.empty() && rule.package != p.name)) {
      continue;
    }
    if (rule.id == f.id || std::find(f.aliases.begin(), f.aliases.end(), rule.id) != f.aliases.end()) {
      return &rule;
    }
  }
  return nullptr;
}

} // namespace

Result<Report> scan(const Rootfs& rootfs, const AdvisoryDb& db, const ScanOptions& options)
{
  Report report;
  report.options = options;
  report.started = now_rfc3339_ms();
  report.db = db.meta();
  report.catalogue = catalogue(rootfs);
  report.warnings = report.catalogue.warnings;
  const auto& distro = report.catalogue.distro;
  const auto& packages = report.catalogue.packages;

  size_t apk_count = 0;
  std::set<std::string> match_warnings;
  for (size_t i = 0; i < packages.size(); ++i) {
    const auto& p = packages[i];
    apk_count += p.type == PackageType::apk;
    if (p.owner) {
      continue; // matched through the Debian package that ships it (spec §1.4)
    }
    auto query = query_for(p, distro);
    if (!query) {
      continue;
    }
    VersionScheme scheme = scheme_for(query->kind);
    if (!Version::parse(scheme, query->version)) {
      report.warnings.push_back(
          fmt::format("{}: {} version \"{}\" is not a valid {} version: only exact `versions` "
                      "entries can match it",
                      p.location, p.name, query->version, scheme_name(scheme)));
    }
    std::vector<Advisory> records;
    for (const auto& ecosystem : {query->ecosystem, std::string("Debian")}) {
      if (ecosystem == "Debian" && (query->kind != Ecosystem::debian || query->ecosystem == "Debian")) {
        continue;
      }
      auto found = db.lookup(ecosystem, query->name);
      if (!found) {
        return fail(found.error());
      }
      std::move(found->begin(), found->end(), std::back_inserter(records));
    }
    // A record naming both "Debian" and "Debian:12" comes back from both lookups.
    std::set<std::string> seen_ids;
    std::vector<Finding> findings;
    for (const auto& adv : records) {
      if (!seen_ids.insert(adv.id).second) {
        continue;
      }
      std::vector<std::string> warnings;
      auto hit = match(adv, *query, warnings);
      match_warnings.insert(warnings.begin(), warnings.end());
      if (!hit) {
        continue;
      }
      Finding f;
      f.package = i;
      f.id = adv.id;
      f.aliases = adv.aliases;
      f.summary = adv.summary;
      f.details = adv.details;
      f.rating = rate(adv, *hit->affected);
      f.fixed_in = hit->fixed_in;
      f.via_versions = hit->via_versions;
      f.via_range = hit->via_range;
      f.urgency = hit->affected->urgency;
      f.ecosystem = hit->affected->ecosystem;
      f.references = adv.references;
      findings.push_back(std::move(f));
    }
    std::sort(findings.begin(), findings.end(),
              [](const Finding& a, const Finding& b) { return a.id < b.id; });
    merge_aliases(findings);
    std::move(findings.begin(), findings.end(), std::back_inserter(report.findings));
  }
  report.warnings.insert(report.warnings.end(), match_warnings.begin(), match_warnings.end());
  if (apk_count > 0) {
    report.warnings.push_back(
        fmt::format("{} apk packages catalogued but not matched: kiln has no Alpine version "
                    "comparator",
                    apk_count));
  }

  const std::string today = report.started.substr(0, 10);
  if (options.max_db_age_days > 0) {
    std::string newest = db.meta().value("newest_modified", "");
    auto age = age_in_days(newest, today);
    if (age && *age > options.max_db_age_days) {
      report.warnings.push_back(
          fmt::format("advisory DB {} is stale: its newest record is from {} ({} days ago); "
                      "newer advisories are missing (rebuild it with kiln db import)",
                      db.path().string(), newest.substr(0, 10), *age));
    }
  }
  for (const auto& rule : options.ignores.rules) {
    if (expired(rule, today)) {
      report.warnings.push_back(fmt::format("{}: ignore entry {} expired on {}: it no longer suppresses",
                                            options.ignores.source, rule.id, rule.expires));
    }
  }
  std::vector<Finding> kept;
  for (auto& f : report.findings) {
    if (const auto* rule = ignore_rule(f, packages[f.package], options, today)) {
      report.suppressed.push_back({std::move(f), rule->reason});
    } else if (options.ignore_unfixed == IgnoreUnfixed::yes && !f.fixed_in) {
      report.suppressed.push_back({std::move(f), "unfixed (--ignore-unfixed)"});
    } else {
      kept.push_back(std::move(f));
    }
  }
  report.findings = std::move(kept);
  report.finished = now_rfc3339_ms();
  return report;
}

Result<Report> scan(int rootfs_dirfd, const AdvisoryDb& db, const ScanOptions& options)
{
  auto rootfs = Rootfs::from_fd(rootfs_dirfd);
  if (!rootfs) {
    return fail(rootfs.error());
  }
  return scan(*rootfs, db, options);
}

bool trips(const Report& report, Severity threshold)
{
  return std::any_of(report.findings.begin(), report.findings.end(),
                     [&](const Finding& f) { return f.rating.severity >= threshold; });
}

} // namespace kiln::scanner
