#include "base/strings.hpp"
#include "scanner/catalogue.hpp"

#include <nlohmann/json.hpp>

namespace kiln::scanner {

std::optional<Package> parse_python_metadata(std::string_view text, std::string_view location)
{
  Package p;
  p.type = PackageType::python;
  p.location = location;
  for (auto line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      break; // the header block ends at the first empty line
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || line[0] == ' ' || line[0] == '\t') {
      continue;
    }
    auto key = to_lower(line.substr(0, colon));
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (key == "name" && p.name.empty()) {
      p.name = value;
    } else if (key == "version" && p.version.empty()) {
      p.version = value;
    } else if (key == "license" && p.licence.empty()) {
      p.licence = value;
    }
  }
  if (p.name.empty() || p.version.empty()) {
    return std::nullopt;
  }
  return p;
}

std::optional<Package> parse_npm_package(std::string_view text, std::string_view location)
{
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) {
    return std::nullopt;
  }
  auto name = json.find("name");
  auto version = json.find("version");
  if (name == json.end() || version == json.end() || !name->is_string() || !version->is_string()) {
    return std::nullopt;
  }
  Package p;
  p.type = PackageType::npm;
  p.name = name->get<std::string>();
  p.version = version->get<std::string>();
  p.location = location;
  if (auto licence = json.find("license"); licence != json.end() && licence->is_string()) {
    p.licence = licence->get<std::string>();
  }
  return p;
}

} // namespace kiln::scanner
