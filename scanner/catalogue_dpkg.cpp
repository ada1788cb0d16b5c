#include "base/strings.hpp"
#include "scanner/catalogue.hpp"
#include "scanner/control.hpp"

#include <fmt/core.h>

namespace kiln::scanner {

namespace {

std::string field(const Stanza& s, const char* name)
{
  auto it = s.fields.find(name);
  return it == s.fields.end() ? std::string() : it->second;
}

} // namespace

void parse_dpkg(std::string_view text, std::string_view location, StatusField status,
                std::vector<Package>& out, std::vector<std::string>& warnings)
{
  for (const auto& stanza : parse_control(text)) {
    auto broken = [&](const std::string& why) {
      std::string name = field(stanza, "package");
      warnings.push_back(fmt::format("{}: paragraph at line {}{}: {}; skipped", location, stanza.line,
                                     name.empty() ? "" : " (" + name + ")", why));
    };
    if (!stanza.error.empty()) {
      broken(stanza.error);
      continue;
    }
    if (status == StatusField::required) {
      const std::string status_text = field(stanza, "status");
      auto words = split(status_text, ' ');
      if (words.size() != 3) {
        broken("Status is not \"<want> <flag> <state>\"");
        continue;
      }
      // Only these two states mean the package's files are gone.
      if (words[2] == "not-installed" || words[2] == "config-files") {
        continue;
      }
    }
    Package p;
    p.type = PackageType::deb;
    p.name = field(stanza, "package");
    p.version = field(stanza, "version");
    p.arch = field(stanza, "architecture");
    p.location = location;
    if (p.name.empty() || p.version.empty()) {
      broken(p.name.empty() ? "no Package field" : "no Version field");
      continue;
    }
    // "Source: name" or "Source: name (version)" when the source version differs.
    std::string source = field(stanza, "source");
    p.source_name = p.name;
    p.source_version = p.version;
    if (!source.empty()) {
      auto open = source.find('(');
      if (open != std::string::npos) {
        auto close = source.find(')', open);
        if (close == std::string::npos) {
          broken("Source has an unclosed \"(\"");
          continue;
        }
        p.source_version = source.substr(open + 1, close - open - 1);
        source = source.substr(0, open);
      }
      while (!source.empty() && source.back() == ' ') {
        source.pop_back();
      }
      p.source_name = source;
    }
    out.push_back(std::move(p));
  }
}

std::vector<std::string> parse_file_list(std::string_view text)
{
  std::vector<std::string> out;
  for (auto line : split(text, '\n')) {
    if (line.empty()) {
      continue;
    }
    if (line[0] != '/') {
      // md5sums: 32 hex digits, two spaces, the path
      auto space = line.find("  ");
      if (space == std::string_view::npos) {
        continue;
      }
      line = line.substr(space + 2);
    }
    while (!line.empty() && line.front() == '/') {
      line.remove_prefix(1);
    }
    if (!line.empty()) {
      out.emplace_back(line);
    }
  }
  return out;
}

} // namespace kiln::scanner
