#include "builder/cacheadmin.hpp"

#include <algorithm>
#include <set>

#include <sys/stat.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "builder/idmap.hpp"

namespace fs = std::filesystem;

namespace kiln::builder {

namespace {

// The directories named `name` under every owner directory of the rootfs
// cache (one per id map that built into this cache).
std::vector<fs::path> owned_dirs(const fs::path& dir, const std::string& name)
{
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& owner : fs::directory_iterator(dir / "rootfs", ec)) {
    fs::path candidate = owner.path() / name;
    if (fs::is_directory(candidate, ec)) {
      out.push_back(candidate);
    }
  }
  return out;
}

uint64_t blob_size(const oci::Layout& blobs, const oci::Digest& digest)
{
  struct stat st{};
  return ::stat(blobs.blob_path(digest).c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Sizes of blobs and directories, each measured once.
class Sizes
{
public:
  Sizes(const fs::path& dir, const oci::Layout& blobs) : m_dir(dir), m_blobs(blobs) {}

  uint64_t blob(const oci::Digest& digest)
  {
    auto [it, fresh] = m_blob_sizes.emplace(digest.str(), 0);
    if (fresh) {
      it->second = blob_size(m_blobs, digest);
    }
    return it->second;
  }

  uint64_t dir(const std::string& name)
  {
    auto [it, fresh] = m_dir_sizes.emplace(name, 0);
    if (fresh) {
      for (const auto& path : owned_dirs(m_dir, name)) {
        it->second += tree_size(path);
      }
    }
    return it->second;
  }

  uint64_t of(const CacheEntry& entry)
  {
    uint64_t total = 0;
    for (const auto& digest : entry.blobs) {
      total += blob(digest);
    }
    for (const auto& name : entry.dirs) {
      total += dir(name);
    }
    return total;
  }

  // What a set of entries holds, shared blobs and directories once.
  uint64_t of_all(const std::vector<const CacheEntry*>& entries)
  {
    std::set<std::string> blobs;
    std::set<std::string> dirs;
    uint64_t total = 0;
    for (const auto* entry : entries) {
      for (const auto& digest : entry->blobs) {
        if (blobs.insert(digest.str()).second) {
          total += blob(digest);
        }
      }
      for (const auto& name : entry->dirs) {
        if (dirs.insert(name).second) {
          total += dir(name);
        }
      }
    }
    return total;
  }

private:
  fs::path m_dir;
  const oci::Layout& m_blobs;
  std::map<std::string, uint64_t> m_blob_sizes;
  std::map<std::string, uint64_t> m_dir_sizes;
};

Result<void> remove_any(const fs::path& path, const IdMap& map)
{
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(path, ec))) {
    return remove_tree(path, map);
  }
  fs::remove(path, ec);
  if (ec) {
    return fail(fmt::format("remove \"{}\": {}", path.string(), ec.message()));
  }
  return {};
}

// Removes every child of dir that keep() does not want.
Result<void> sweep(const fs::path& dir, const IdMap& map, const std::function<bool(const std::string&)>& keep)
{
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (const auto& child : fs::directory_iterator(dir, ec)) {
    if (!keep(child.path().filename().string())) {
      doomed.push_back(child.path());
    }
  }
  for (const auto& path : doomed) {
    if (auto r = remove_any(path, map); !r) {
      return r;
    }
  }
  return {};
}

} // namespace

uint64_t tree_size(const fs::path& path)
{
  uint64_t total = 0;
  std::set<std::pair<uint64_t, uint64_t>> linked;
  std::error_code ec;
  fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st{};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (st.st_nlink > 1 && !linked.insert({st.st_dev, st.st_ino}).second) {
      continue;
    }
    total += static_cast<uint64_t>(st.st_size);
  }
  return total;
}

Result<CacheListing> list_cache(const fs::path& dir)
{
  std::error_code ec;
  if (!fs::is_directory(dir / "steps", ec)) {
    return fail(fmt::format("\"{}\" holds no kiln build cache", dir.string()));
  }
  auto cache = BuildCache::open(dir);
  if (!cache) {
    return fail(cache.error());
  }
  Sizes sizes(dir, cache->blobs());
  CacheListing listing;
  for (auto& [entry, last_used] : cache->entries()) {
    uint64_t size = sizes.of(entry);
    listing.items.push_back({std::move(entry), last_used, size});
  }
  std::sort(listing.items.begin(), listing.items.end(),
            [](const CacheItem& a, const CacheItem& b) { return a.last_used > b.last_used; });
  listing.total = tree_size(dir);
  return listing;
}

Result<PruneResult> prune_cache(const fs::path& dir, const PruneOptions& options)
{
  std::error_code ec;
  if (!fs::is_directory(dir / "steps", ec)) {
    return fail(fmt::format("\"{}\" holds no kiln build cache", dir.string()));
  }
  auto cache = BuildCache::open(dir, CacheUse::exclusive);
  if (!cache) {
    return fail(cache.error());
  }
  PruneResult result;
  result.before = tree_size(dir);
  auto entries = cache->entries();
  // Least recently used first.
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<bool> doomed(entries.size(), options.all);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (options.older_than && entries[i].second < options.now - *options.older_than) {
      doomed[i] = true;
    }
  }
  Sizes sizes(dir, cache->blobs());
  if (options.max_size) {
    for (size_t i = 0; i < entries.size(); ++i) {
      std::vector<const CacheEntry*> rest;
      for (size_t j = 0; j < entries.size(); ++j) {
        if (!doomed[j]) {
          rest.push_back(&entries[j].first);
        }
      }
      if (sizes.of_all(rest) <= *options.max_size) {
        break;
      }
      doomed[i] = true;
    }
  }
  std::set<std::string> blobs;
  std::set<std::string> dirs;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (doomed[i]) {
      cache->remove(entries[i].first);
      ++result.removed;
      continue;
    }
    ++result.kept;
    for (const auto& digest : entries[i].first.blobs) {
      blobs.insert(digest.hex());
    }
    dirs.insert(entries[i].first.dirs.begin(), entries[i].first.dirs.end());
  }
  // Everything no remaining entry refers to; with the lock held, nothing
  // here belongs to a running build.
  IdMap map = current_id_map();
  auto swept = sweep(dir / "blobs" / "blobs" / "sha256", map, [&](const std::string& name) {
    return blobs.contains(name);
  });
  for (const auto& owner : fs::directory_iterator(dir / "rootfs", ec)) {
    if (swept) {
      swept = sweep(owner.path(), map, [&](const std::string& name) { return dirs.contains(name); });
    }
  }
  if (swept) {
    swept = sweep(dir / "tmp", map, [](const std::string&) { return false; });
  }
  if (swept && options.all) {
    for (const char* sub : {"run-cache", "context", "aliases"}) {
      if (swept) {
        swept = sweep(dir / sub, map, [](const std::string&) { return false; });
      }
    }
  }
  if (!swept) {
    return fail(fmt::format("prune \"{}\": {}", dir.string(), swept.error()));
  }
  result.after = tree_size(dir);
  return result;
}

} // namespace kiln::builder
