#include "scanner/ignore.hpp"

#include "base/fileio.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>

namespace kiln::scanner {

namespace {

bool valid_date(std::string_view s)
{
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return false;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

} // namespace

Result<IgnoreList> parse_ignore(std::string_view text, const std::string& source)
{
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return fail(fmt::format("read ignore file {}:{}:{}: {}", source, e.source().begin.line,
                            e.source().begin.column, e.description()));
  }
  IgnoreList list;
  list.source = source;
  const auto* entries = table["ignore"].as_array();
  if (!entries) {
    if (table.contains("ignore")) {
      return fail(
          fmt::format("read ignore file {}: \"ignore\" must be an array of tables ([[ignore]])", source));
    }
    return list;
  }
  for (const auto& node : *entries) {
    const auto* entry = node.as_table();
    auto line = node.source().begin.line;
    if (!entry) {
      return fail(fmt::format("read ignore file {}:{}: each ignore entry must be a table", source, line));
    }
    IgnoreRule rule;
    rule.id = (*entry)["id"].value_or(std::string());
    rule.reason = (*entry)["reason"].value_or(std::string());
    rule.package = (*entry)["package"].value_or(std::string());
    if (rule.id.empty()) {
      return fail(fmt::format("read ignore file {}:{}: an entry has no id", source, line));
    }
    if (rule.reason.empty()) {
      return fail(fmt::format("read ignore file {}:{}: entry {} has no reason", source, line, rule.id));
    }
    if (const auto* date = (*entry)["expires"].as_date()) {
      const auto& d = date->get();
      rule.expires = fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    } else if (auto text_date = (*entry)["expires"].value<std::string>()) {
      rule.expires = *text_date;
    } else if (entry->contains("expires")) {
      return fail(
          fmt::format("read ignore file {}:{}: entry {}: expires must be a date", source, line, rule.id));
    }
    if (!rule.expires.empty() && !valid_date(rule.expires)) {
      return fail(fmt::format("read ignore file {}:{}: entry {}: expires \"{}\" is not YYYY-MM-DD", source,
                              line, rule.id, rule.expires));
    }
    list.rules.push_back(std::move(rule));
  }
  return list;
}

Result<IgnoreList> load_ignore_file(const std::filesystem::path& path)
{
  auto text = read_file(path);
  if (!text) {
    return fail(fmt::format("read ignore file: {}", text.error()));
  }
  return parse_ignore(*text, path.string());
}

bool expired(const IgnoreRule& rule, const std::string& today)
{
  return !rule.expires.empty() && rule.expires <= today;
}

} // namespace kiln::scanner
