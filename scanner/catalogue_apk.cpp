#include "base/strings.hpp"
#include "scanner/catalogue.hpp"

#include <fmt/core.h>

namespace kiln::scanner {

void parse_apk_installed(std::string_view text, std::string_view location, std::vector<Package>& out,
                         std::vector<std::string>& warnings)
{
  Package current;
  size_t line_number = 0;
  size_t record_line = 0;
  auto flush = [&] {
    if (record_line == 0) {
      return;
    }
    if (current.name.empty() || current.version.empty()) {
      warnings.push_back(fmt::format("{}: record at line {}: no {} line; skipped", location, record_line,
                                     current.name.empty() ? "P:" : "V:"));
    } else {
      current.type = PackageType::apk;
      current.location = location;
      if (current.source_name.empty()) {
        current.source_name = current.name;
      }
      current.source_version = current.version;
      out.push_back(std::move(current));
    }
    current = Package{};
    record_line = 0;
  };
  for (auto line : split(text, '\n')) {
    ++line_number;
    if (line.empty()) {
      flush();
      continue;
    }
    if (record_line == 0) {
      record_line = line_number;
    }
    if (line.size() < 2 || line[1] != ':') {
      continue;
    }
    auto value = std::string(line.substr(2));
    switch (line[0]) {
    case 'P':
      current.name = value;
      break;
    case 'V':
      current.version = value;
      break;
    case 'A':
      current.arch = value;
      break;
    case 'o':
      current.source_name = value;
      break;
    case 'L':
      current.licence = value;
      break;
    default:
      break;
    }
  }
  flush();
}

} // namespace kiln::scanner
