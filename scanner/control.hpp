#pragma once

// Debian control-file syntax (deb822): stanzas separated by blank lines,
// "Field: value" lines, continuation lines starting with a space or tab.
// Field names are case-insensitive; they are stored lower-cased.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

struct Stanza
{
  size_t line = 0; // first line, 1-based
  std::map<std::string, std::string> fields;
  std::string error; // non-empty when the stanza is broken
};

std::vector<Stanza> parse_control(std::string_view text);

} // namespace kiln::scanner
