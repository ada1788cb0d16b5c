#include "scanner/control.hpp"

#include "base/strings.hpp"

#include <fmt/core.h>

namespace kiln::scanner {

std::vector<Stanza> parse_control(std::string_view text)
{
  std::vector<Stanza> out;
  Stanza current;
  bool open = false;
  std::string last_field;
  size_t number = 0;
  auto close = [&] {
    if (open) {
      out.push_back(std::move(current));
    }
    current = Stanza{};
    open = false;
    last_field.clear();
  };
  for (auto line : split(text, '\n')) {
    ++number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      close();
      continue;
    }
    if (!open) {
      open = true;
      current.line = number;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (last_field.empty()) {
        if (current.error.empty()) {
          current.error = fmt::format("line {}: continuation line before any field", number);
        }
        continue;
      }
      current.fields[last_field] += "\n" + std::string(line.substr(1));
      continue;
    }
    if (line[0] == '#') {
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (current.error.empty()) {
        current.error = fmt::format("line {}: not a \"Field: value\" line", number);
      }
      last_field.clear();
      continue;
    }
    last_field = to_lower(line.substr(0, colon));
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
      value.remove_suffix(1);
    }
    if (current.fields.count(last_field) && current.error.empty()) {
      current.error = fmt::format("line {}: field {} repeated", number, line.substr(0, colon));
    }
    current.fields[last_field] = std::string(value);
  }
  close();
  return out;
}

} // namespace kiln::scanner
