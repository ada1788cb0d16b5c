#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "scanner/advisory_db.hpp"
#include "scanner/output.hpp"
#include "scanner/report.hpp"

namespace kiln::cli {

int cmd_scan(std::string_view name, std::span<const std::string> args)
{
  if (print_help_if_asked(name, args)) {
    return 0;
  }
  Args parsed("scan", args,
              {{"rootfs"}, {"db"}, {"format", Takes::value, 'f'}, {"output", Takes::value, 'o'}, {"fail-on"},
               {"ignore-unfixed", Takes::none}, {"ignore-file"}, {"name"}, {"max-db-age"}});
  parsed.expect_positional(0, 0, "kiln scan --rootfs DIR --db DB [OPTIONS]");
  auto rootfs_dir = parsed.get("rootfs");
  auto db_path = parsed.get("db");
  if (!rootfs_dir) {
    throw Error("scan: --rootfs DIR is required (scanning an image reference comes with kiln build --scan)", 2);
  }
  if (!db_path) {
    throw Error("scan: --db DB is required (build one with kiln db import)", 2);
  }
  auto format = scanner::parse_format(parsed.get("format").value_or("table"));
  if (!format) {
    throw Error(fmt::format("scan: unknown --format {} (table, json, sarif, cyclonedx, spdx or cosign-vuln)",
                            *parsed.get("format")),
                2);
  }
  std::optional<scanner::Severity> threshold;
  if (auto fail_on = parsed.get("fail-on")) {
    threshold = scanner::parse_severity(*fail_on);
    if (!threshold || *threshold < scanner::Severity::low) {
      throw Error(fmt::format("scan: unknown --fail-on {} (low, medium, high or critical)", *fail_on), 2);
    }
  }
  scanner::ScanOptions options;
  options.ignore_unfixed = parsed.has("ignore-unfixed") ? scanner::IgnoreUnfixed::yes : scanner::IgnoreUnfixed::no;
  options.target = parsed.get("name").value_or(std::filesystem::path(*rootfs_dir).filename().string());
  options.invocation.assign(args.begin(), args.end());
  options.invocation.push_back("--offline");
  if (auto age = parsed.get("max-db-age")) {
    auto days = parse_u64(*age);
    if (!days || *days > 100000) {
      throw Error(fmt::format("scan: --max-db-age {} is not a number of days", *age), 2);
    }
    options.max_db_age_days = static_cast<int>(*days);
  }
  if (auto ignore_file = parsed.get("ignore-file")) {
    auto ignores = scanner::load_ignore_file(*ignore_file);
    if (!ignores) {
      throw Error(fmt::format("scan: {}", ignores.error()));
    }
    options.ignores = std::move(*ignores);
  }
  auto db = scanner::AdvisoryDb::open(*db_path);
  if (!db) {
    throw Error(fmt::format("scan: {}", db.error()));
  }
  auto rootfs = scanner::Rootfs::open(*rootfs_dir);
  if (!rootfs) {
    throw Error(fmt::format("scan: {}", rootfs.error()));
  }
  auto report = scanner::scan(*rootfs, *db, options);
  if (!report) {
    throw Error(fmt::format("scan {}: {}", *rootfs_dir, report.error()));
  }
  for (const auto& warning : report->warnings) {
    fmt::print(stderr, "kiln: warning: scan: {}\n", warning);
  }
  std::string text = scanner::render(*report, *format);
  if (auto output = parsed.get("output")) {
    if (auto r = write_file_atomic(*output, text, Durable::no); !r) {
      throw Error(fmt::format("scan: write report: {}", r.error()));
    }
  } else {
    fmt::print("{}", text);
  }
  if (threshold && scanner::trips(*report, *threshold)) {
    fmt::print(stderr, "kiln: scan: findings at or above {} remain (--fail-on)\n", scanner::severity_name(*threshold));
    return 3;
  }
  return 0;
}

} // namespace kiln::cli
