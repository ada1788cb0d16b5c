#include <cmath>
#include <ctime>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"
#include "builder/cacheadmin.hpp"
#include "builder/flags.hpp"
#include "builder/rootfs.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace fs = std::filesystem;

namespace kiln::cli {

namespace {

constexpr std::string_view k_usage = "kiln cache ls [--cache-dir DIR]\n"
                                     "       kiln cache prune [--cache-dir DIR] [--all] [--max-size SIZE] "
                                     "[--older-than AGE]";

// "10G", "512M", "1.5GiB", "4096": bytes (binary multiples, as du -h).
std::optional<uint64_t> parse_size(std::string_view text)
{
  std::string number;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) {
    number += text[i++];
  }
  std::string unit = to_lower(text.substr(i));
  if (unit.ends_with("ib")) {
    unit.resize(unit.size() - 2);
  } else if (unit.size() > 1 && unit.ends_with('b')) {
    unit.pop_back();
  } else if (unit == "b") {
    unit.clear();
  }
  static const std::pair<std::string_view, double> k_units[] = {
    {"", 1.0}, {"k", 1024.0}, {"m", 1024.0 * 1024}, {"g", 1024.0 * 1024 * 1024}, {"t", 1024.0 * 1024 * 1024 * 1024}};
  char* end = nullptr;
  double value = number.empty() ? -1 : std::strtod(number.c_str(), &end);
  if (value < 0 || end == nullptr || *end != '\0') {
    return std::nullopt;
  }
  for (const auto& [name, factor] : k_units) {
    if (unit == name) {
      return static_cast<uint64_t>(std::llround(value * factor));
    }
  }
  return std::nullopt;
}

// "7d", "2w", and Go's durations as Docker's --filter until= takes them
// ("12h", "30m", "1h30m"): seconds.
std::optional<int64_t> parse_age(std::string_view text)
{
  if (text.size() >= 2 && (text.back() == 'd' || text.back() == 'w')) {
    auto value = parse_u64(text.substr(0, text.size() - 1));
    if (!value) {
      return std::nullopt;
    }
    return static_cast<int64_t>(*value) * (text.back() == 'd' ? 86400 : 7 * 86400);
  }
  auto ns = builder::parse_go_duration(text);
  if (!ns || *ns < 0) {
    return std::nullopt;
  }
  return *ns / 1'000'000'000;
}

std::string age(int64_t seconds)
{
  if (seconds < 120) {
    return fmt::format("{}s ago", std::max<int64_t>(seconds, 0));
  }
  if (seconds < 7200) {
    return fmt::format("{}m ago", seconds / 60);
  }
  if (seconds < 2 * 86400) {
    return fmt::format("{}h ago", seconds / 3600);
  }
  return fmt::format("{}d ago", seconds / 86400);
}

int list(const fs::path& dir)
{
  auto listing = builder::list_cache(dir);
  if (!listing) {
    throw Error(fmt::format("cache ls: {}", listing.error()));
  }
  int64_t now = std::time(nullptr);
  fmt::print("{:<14} {:<10} {:>10}  {}\n", "KEY", "USED", "SIZE", "STEP");
  for (const auto& item : listing->items) {
    std::string summary = item.entry.inputs.summary;
    if (auto newline = summary.find('\n'); newline != std::string::npos) {
      summary = summary.substr(0, newline) + " ...";
    }
    fmt::print("{:<14} {:<10} {:>10}  {} {}\n", item.entry.key.hex().substr(0, 12), age(now - item.last_used),
               human_size(item.size), item.entry.inputs.location, summary);
  }
  fmt::print("{} entries; the cache directory holds {}\n", listing->items.size(), human_size(listing->total));
  return 0;
}

} // namespace

int cmd_cache(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv, {{"cache-dir"}, {"all", Takes::none}, {"max-size"}, {"older-than"}});
  args.expect_positional(1, 1, k_usage);
  fs::path dir = args.get("cache-dir").value_or(builder::default_cache_dir().string());
  const auto& verb = args.positional()[0];
  if (verb == "ls") {
    if (args.has("all") || args.has("max-size") || args.has("older-than")) {
      throw Error("cache ls: --all, --max-size and --older-than go with prune");
    }
    return list(dir);
  }
  if (verb != "prune") {
    throw Error(fmt::format("cache: unknown action \"{}\" (usage: {})", verb, k_usage));
  }
  builder::PruneOptions options;
  options.all = args.has("all");
  options.now = std::time(nullptr);
  if (auto size = args.get("max-size")) {
    options.max_size = parse_size(*size);
    if (!options.max_size) {
      throw Error(fmt::format("cache prune: --max-size \"{}\": expected a size such as 10G or 512M", *size));
    }
  }
  if (auto older = args.get("older-than")) {
    options.older_than = parse_age(*older);
    if (!options.older_than) {
      throw Error(fmt::format("cache prune: --older-than \"{}\": expected an age such as 7d, 12h or 30m", *older));
    }
  }
  auto result = builder::prune_cache(dir, options);
  if (!result) {
    throw Error(fmt::format("cache prune: {}", result.error()));
  }
  fmt::print("removed {} entries, kept {}; {} -> {} (freed {})\n", result->removed, result->kept,
             human_size(result->before), human_size(result->after),
             human_size(result->before > result->after ? result->before - result->after : 0));
  return 0;
}

} // namespace kiln::cli
