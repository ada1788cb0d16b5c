#pragma once

// `kiln db import`: OSV records from directories (searched recursively for
// .json and .jsonl), .json files (one record or an array of them), .jsonl
// files (one record a line) and .zip archives as osv.dev publishes them
// (read with libarchive), compiled into one advisory DB file.

#include "base/result.hpp"

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kiln::scanner {

struct ImportOptions
{
  std::string uri;     // the DB's origin for reports; default: the sources' names
  std::string version; // default: the date of the newest `modified`
  std::string built;   // RFC 3339 build time; default: now
};

struct ImportStats
{
  size_t read = 0;                           // records parsed
  size_t stored = 0;                         // records written
  size_t withdrawn = 0;                      // skipped
  size_t malformed = 0;                      // skipped, each listed in problems
  size_t duplicates = 0;                     // same id seen again: the later source wins
  std::map<std::string, size_t> unsupported; // ecosystem -> affected entries ignored
  std::vector<std::string> problems;         // "FILE: ID: cause"
};

// Reads every source and writes the DB to `output` (temp file + rename).
// Malformed records are skipped and reported; an unreadable source or an
// unwritable output fails the whole import and leaves no output behind.
Result<ImportStats> import_advisories(const std::vector<std::filesystem::path>& sources,
                                      const std::filesystem::path& output, const ImportOptions& options);

} // namespace kiln::scanner
