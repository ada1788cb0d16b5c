#pragma once

// The ignore file (kiln-ignore.toml): findings a team has triaged.
//
//   [[ignore]]
//   id = "PYSEC-2023-83"            # a record id or any of its aliases
//   reason = "fixed by Debian's backport in 0.26.1-1+deb12u1"
//   expires = 2025-06-30            # optional TOML date (or "YYYY-MM-DD"); from
//                                   # that day on the entry no longer suppresses
//   package = "starlette"           # optional: only this package name

#include "base/result.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::scanner {

struct IgnoreRule
{
  std::string id;
  std::string reason;
  std::string expires; // "YYYY-MM-DD" or empty
  std::string package; // empty: any package
};

struct IgnoreList
{
  std::vector<IgnoreRule> rules;
  std::string source; // the file, for messages
};

Result<IgnoreList> load_ignore_file(const std::filesystem::path& path);
Result<IgnoreList> parse_ignore(std::string_view text, const std::string& source);

// True when a rule expired on or before `today` ("YYYY-MM-DD").
bool expired(const IgnoreRule& rule, const std::string& today);

} // namespace kiln::scanner
