#include "base/error.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "scanner/advisory_db.hpp"
#include "scanner/db_import.hpp"

#include <fmt/core.h>
#include <string>
#include <vector>

namespace kiln::cli {

namespace {

int db_import(std::span<const std::string> args)
{
  Args parsed("db import", args,
              {{"output", Takes::value, 'o'}, {"uri"}, {"version"}, {"quiet", Takes::none, 'q'}});
  parsed.expect_positional(1, SIZE_MAX, "kiln db import SRC... -o DB");
  auto output = parsed.get("output");
  if (!output) {
    throw Error("db import: --output DB is required (usage: kiln db import SRC... -o DB)", 2);
  }
  std::vector<std::filesystem::path> sources(parsed.positional().begin(), parsed.positional().end());
  scanner::ImportOptions options;
  options.uri = parsed.get("uri").value_or("");
  options.version = parsed.get("version").value_or("");
  auto stats = scanner::import_advisories(sources, *output, options);
  if (!stats) {
    throw Error(fmt::format("db import: {}", stats.error()));
  }
  for (const auto& problem : stats->problems) {
    fmt::print(stderr, "kiln: warning: db import: {}; record skipped\n", problem);
  }
  if (!parsed.has("quiet")) {
    std::string unsupported;
    for (const auto& [ecosystem, count] : stats->unsupported) {
      unsupported += fmt::format("{}{} {}", unsupported.empty() ? "" : ", ", ecosystem, count);
    }
    fmt::print("{}: {} records stored; {} read, {} withdrawn, {} malformed, {} duplicate ids{}\n", *output,
               stats->stored, stats->read, stats->withdrawn, stats->malformed, stats->duplicates,
               unsupported.empty() ? "" : "; unsupported ecosystems ignored: " + unsupported);
  }
  return 0;
}

int db_info(std::span<const std::string> args)
{
  Args parsed("db info", args, {});
  parsed.expect_positional(1, 1, "kiln db info DB");
  auto db = scanner::AdvisoryDb::open(parsed.positional()[0]);
  if (!db) {
    throw Error(db.error());
  }
  fmt::print("{}\n", db->meta().dump(2));
  return 0;
}

} // namespace

int cmd_db(std::string_view name, std::span<const std::string> args)
{
  if (args.empty() || print_help_if_asked(name, args.subspan(0, 1))) {
    if (args.empty()) {
      throw Error("db: expected a subcommand: import or info (see kiln db --help)", 2);
    }
    return 0;
  }
  if (args[0] == "import") {
    if (print_help_if_asked(name, args)) {
      return 0;
    }
    return db_import(args.subspan(1));
  }
  if (args[0] == "info") {
    return db_info(args.subspan(1));
  }
  throw Error(fmt::format("db: unknown subcommand \"{}\" (expected import or info)", args[0]), 2);
}

} // namespace kiln::cli
