#pragma once

// Walks a build context the way the engine sends it to COPY and ADD: every
// entry not excluded by the ignore file, in sorted order, without following
// symbolic links, by file descriptor (a context path is never re-resolved).
// The Containerfile and the ignore file stay visible even when a pattern
// excludes them, as in Docker.

#include "base/result.hpp"
#include "builder/ignore.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace kiln::builder {

struct ContextEntry
{
  std::string path; // relative to the context root, '/'-separated
  struct stat st;
};

struct ContextWalkOptions
{
  const IgnoreMatcher* matcher = nullptr; // none: nothing is excluded
  std::vector<std::string> keep;          // relative paths never excluded (Containerfile, ignore file)
};

using ContextVisitor = std::function<void(const ContextEntry&)>;

// The paths, relative to context, that stay visible whatever the ignore file
// says: the Containerfile and the ignore file, when they lie inside context.
std::vector<std::string> always_included(const std::filesystem::path& context,
                                         const std::filesystem::path& containerfile,
                                         const std::optional<std::filesystem::path>& ignore_file);

// Calls visit for each included entry, parents before children. Fails with
// the path and the cause if a directory cannot be read.
Result<void> walk_context(const std::filesystem::path& root, const ContextWalkOptions& options,
                          const ContextVisitor& visit);

} // namespace kiln::builder
