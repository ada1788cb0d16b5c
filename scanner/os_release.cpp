#include "base/strings.hpp"
#include "scanner/catalogue.hpp"

namespace kiln::scanner {

Distro parse_os_release(std::string_view text)
{
  Distro distro;
  for (auto line : split(text, '\n')) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string_view::npos) {
      continue;
    }
    auto key = line.substr(0, eq);
    auto value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "ID") {
      distro.id = value;
    } else if (key == "VERSION_ID") {
      distro.version_id = value;
    } else if (key == "PRETTY_NAME") {
      distro.pretty_name = value;
    }
  }
  if (distro.id == "debian" && !distro.version_id.empty()) {
    distro.ecosystem = "Debian:" + std::string(split(distro.version_id, '.')[0]);
  } else if (distro.id == "alpine" && !distro.version_id.empty()) {
    auto parts = split(distro.version_id, '.');
    distro.ecosystem =
        "Alpine:v" + std::string(parts[0]) + (parts.size() > 1 ? "." + std::string(parts[1]) : "");
  }
  return distro;
}

} // namespace kiln::scanner
