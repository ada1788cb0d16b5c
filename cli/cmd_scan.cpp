#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "cli/args.hpp"
#include "builder/rootfs.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "cli/scanning.hpp"
#include "oci/image.hpp"
#include "scanner/advisory_db.hpp"
#include "scanner/output.hpp"
#include "scanner/report.hpp"

namespace kiln::cli {

ScanSettings scan_settings(const Args& parsed, std::span<const std::string> args, std::string_view command)
{
  ScanSettings settings;
  auto db_path = parsed.get("db");
  if (!db_path) {
    throw Error(fmt::format("{}: --db DB is required (build one with kiln db import)", command), 2);
  }
  settings.db = *db_path;
  auto format = scanner::parse_format(parsed.get("format").value_or("table"));
  if (!format) {
    throw Error(fmt::format("{}: unknown --format {} (table, json, sarif, cyclonedx, spdx or cosign-vuln)", command,
                            *parsed.get("format")),
                2);
  }
  settings.format = *format;
  if (auto fail_on = parsed.get("fail-on")) {
    settings.threshold = scanner::parse_severity(*fail_on);
    if (!settings.threshold || *settings.threshold < scanner::Severity::low) {
      throw Error(fmt::format("{}: unknown --fail-on {} (low, medium, high or critical)", command, *fail_on), 2);
    }
  }
  auto& options = settings.options;
  options.ignore_unfixed = parsed.has("ignore-unfixed") ? scanner::IgnoreUnfixed::yes : scanner::IgnoreUnfixed::no;
  options.invocation.assign(args.begin(), args.end());
  options.invocation.push_back("--offline");
  if (auto age = parsed.get("max-db-age")) {
    auto days = parse_u64(*age);
    if (!days || *days > 100000) {
      throw Error(fmt::format("{}: --max-db-age {} is not a number of days", command, *age), 2);
    }
    options.max_db_age_days = static_cast<int>(*days);
  }
  if (auto ignore_file = parsed.get("ignore-file")) {
    auto ignores = scanner::load_ignore_file(*ignore_file);
    if (!ignores) {
      throw Error(fmt::format("{}: {}", command, ignores.error()));
    }
    options.ignores = std::move(*ignores);
  }
  return settings;
}

scanner::Report scan_directory(const std::filesystem::path& rootfs_dir, const ScanSettings& settings)
{
  auto db = scanner::AdvisoryDb::open(settings.db);
  if (!db) {
    throw Error(fmt::format("scan: {}", db.error()));
  }
  auto rootfs = scanner::Rootfs::open(rootfs_dir);
  if (!rootfs) {
    throw Error(fmt::format("scan: {}", rootfs.error()));
  }
  auto report = scanner::scan(*rootfs, *db, settings.options);
  if (!report) {
    throw Error(fmt::format("scan {}: {}", settings.options.target, report.error()));
  }
  for (const auto& warning : report->warnings) {
    fmt::print(stderr, "kiln: warning: scan: {}\n", warning);
  }
  return std::move(*report);
}

int emit_report(const scanner::Report& report, const ScanSettings& settings, const std::optional<std::string>& output)
{
  std::string text = scanner::render(report, settings.format);
  if (output) {
    if (auto r = write_file_atomic(*output, text, Durable::no); !r) {
      throw Error(fmt::format("scan: write report: {}", r.error()));
    }
  } else {
    fmt::print("{}", text);
  }
  if (settings.threshold && scanner::trips(report, *settings.threshold)) {
    fmt::print(stderr, "kiln: scan: findings at or above {} remain (--fail-on)\n",
               scanner::severity_name(*settings.threshold));
    return 3;
  }
  return 0;
}

int cmd_scan(std::string_view name, std::span<const std::string> args)
{
  if (print_help_if_asked(name, args)) {
    return 0;
  }
  Args parsed("scan", args,
              {{"rootfs"}, {"db"}, {"format", Takes::value, 'f'}, {"output", Takes::value, 'o'}, {"fail-on"},
               {"ignore-unfixed", Takes::none}, {"ignore-file"}, {"name"}, {"max-db-age"}, {"platform"},
               {"cache-dir"}});
  parsed.expect_positional(0, 1, "kiln scan REF|--rootfs DIR --db DB [OPTIONS]");
  auto rootfs_dir = parsed.get("rootfs");
  if (rootfs_dir.has_value() == !parsed.positional().empty()) {
    throw Error("scan: name an image (kiln scan REF) or a directory (--rootfs DIR), one of the two", 2);
  }
  ScanSettings settings = scan_settings(parsed, args, "scan");
  if (rootfs_dir) {
    settings.options.target = parsed.get("name").value_or(std::filesystem::path(*rootfs_dir).filename().string());
    return emit_report(scan_directory(*rootfs_dir, settings), settings, parsed.get("output"));
  }
  // An image: its layers flattened once into the rootfs cache, then scanned.
  const std::string& text = parsed.positional()[0];
  auto source = open_source(text);
  auto image = unwrap(oci::load_image(source.layout(), source.top(), platform_option(parsed)));
  std::filesystem::path cache = parsed.get("cache-dir").value_or(builder::default_cache_dir().string());
  auto flattened = unwrap(builder::flatten_image(source.layout(), image.manifest.layers, image.config.diff_ids, cache,
                                                 [](const std::string& line) {
                                                   fmt::print(stderr, "kiln: warning: {}\n", line);
                                                 }));
  const auto& rootfs = flattened.rootfs;
  settings.options.target = parsed.get("name").value_or(source.reference().str());
  settings.options.target_digest = image.descriptor.digest.str();
  return emit_report(scan_directory(rootfs, settings), settings, parsed.get("output"));
}

} // namespace kiln::cli
