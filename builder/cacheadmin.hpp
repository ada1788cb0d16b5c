#pragma once

// `kiln cache ls` and `kiln cache prune`: what the build cache holds (see
// builder/buildcache.hpp for its layout) and how it shrinks. Prune holds the
// cache's lock exclusively, so it waits for running builds and no build
// starts while it removes; it removes whole entries (least recently used
// first), then everything no remaining entry refers to: blobs, lower
// directories, flattened chains and leftovers of interrupted builds.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "builder/buildcache.hpp"

namespace kiln::builder {

struct CacheItem
{
  CacheEntry entry;
  int64_t last_used = 0; // seconds since the epoch
  uint64_t size = 0;     // its blobs and directories, in bytes (shared ones counted in each)
};

struct CacheListing
{
  std::vector<CacheItem> items; // most recently used first
  uint64_t total = 0;           // bytes the cache directory holds
};

Result<CacheListing> list_cache(const std::filesystem::path& dir);

struct PruneOptions
{
  bool all = false;                  // every entry, the RUN cache mounts, stat caches and aliases too
  std::optional<int64_t> older_than; // seconds: entries unused for longer go
  std::optional<uint64_t> max_size;  // bytes: least recently used entries go until the rest fit
  int64_t now = 0;                   // seconds since the epoch
};

struct PruneResult
{
  size_t removed = 0; // entries
  size_t kept = 0;
  uint64_t before = 0; // bytes the cache directory held
  uint64_t after = 0;
};

Result<PruneResult> prune_cache(const std::filesystem::path& dir, const PruneOptions& options);

// Bytes of the regular files under path (hard links once), skipping what
// cannot be read.
uint64_t tree_size(const std::filesystem::path& path);

} // namespace kiln::builder
