#pragma once

// What kiln scan and kiln build --scan share: the options that shape a
// scan, running it over a directory, and writing the report.

#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "cli/args.hpp"
#include "scanner/output.hpp"
#include "scanner/report.hpp"

namespace kiln::cli {

struct ScanSettings
{
  std::filesystem::path db;
  scanner::Format format = scanner::Format::table;
  std::optional<scanner::Severity> threshold; // --fail-on
  scanner::ScanOptions options;
};

// --db, --format, --fail-on, --ignore-unfixed, --ignore-file, --max-db-age.
ScanSettings scan_settings(const Args& parsed, std::span<const std::string> args, std::string_view command);
scanner::Report scan_directory(const std::filesystem::path& rootfs_dir, const ScanSettings& settings);
// Prints or writes the report; 3 when --fail-on trips, else 0.
int emit_report(const scanner::Report& report, const ScanSettings& settings, const std::optional<std::string>& output);

} // namespace kiln::cli
