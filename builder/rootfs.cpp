#include "builder/rootfs.hpp"

#include <cerrno>
#include <cstdlib>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "builder/nsexec.hpp"
#include "oci/layer_apply.hpp"

namespace fs = std::filesystem;

namespace kiln::builder {

namespace {

// Opens the directory and every blob here, before the user namespace: as
// root, container root is an unprivileged host id that may not be able to
// walk the paths leading to them.
struct OpenedLayers
{
  Fd root;
  std::vector<Fd> blobs;
};

Result<OpenedLayers> open_layers(const fs::path& dir, const oci::Layout& layout,
                                 const std::vector<oci::Descriptor>& layers)
{
  OpenedLayers opened;
  opened.root.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!opened.root) {
    return fail(fmt::format("open \"{}\": {}", dir.string(), errno_text(errno)));
  }
  for (const auto& layer : layers) {
    auto blob = layout.open_blob(layer.digest);
    if (!blob) {
      return fail(blob.error());
    }
    opened.blobs.push_back(std::move(*blob));
  }
  return opened;
}

// Without privilege the applier skips every device node with a warning; a
// rootfs has a dozen of them, so they are summed up in one line.
class WarningSummary
{
public:
  explicit WarningSummary(const std::function<void(const std::string&)>& warn) : m_warn(warn) {}
  ~WarningSummary()
  {
    if (m_devices.empty() || !m_warn) {
      return;
    }
    std::string names;
    for (size_t i = 0; i < m_devices.size() && i < 4; ++i) {
      names += (i == 0 ? "" : ", ") + m_devices[i];
    }
    m_warn(fmt::format("skipped {} device node(s) this user cannot create ({}{}); the sandbox provides /dev",
                       m_devices.size(), names, m_devices.size() > 4 ? ", ..." : ""));
  }
  std::function<void(const std::string&)> callback()
  {
    return [this](const std::string& line) {
      constexpr std::string_view k_device = "skipping device node \"";
      if (line.starts_with(k_device)) {
        m_devices.push_back(line.substr(k_device.size(), line.find('"', k_device.size()) - k_device.size()));
      } else if (m_warn) {
        m_warn(line);
      }
    };
  }

private:
  std::function<void(const std::string&)> m_warn;
  std::vector<std::string> m_devices;
};

Result<void> apply_layers(OpenedLayers& opened, const std::vector<oci::Descriptor>& layers,
                          const std::vector<oci::Digest>& diff_ids,
                          const std::function<void(const std::string&)>& report)
{
  WarningSummary summary(report);
  auto warn = summary.callback();
  int root_fd = opened.root.get();
  for (size_t i = 0; i < layers.size(); ++i) {
    oci::ApplyOptions options;
    options.expected.diff_id = diff_ids[i];
    options.expected.blob = layers[i].digest;
    options.warn = warn;
    auto applied = oci::apply_layer(root_fd, std::move(opened.blobs[i]), layers[i].digest.short_str(), options);
    if (!applied) {
      return fail(applied.error());
    }
  }
  return {};
}

} // namespace

oci::Digest chain_id(const std::vector<oci::Digest>& diff_ids)
{
  if (diff_ids.empty()) {
    return oci::Digest::of("");
  }
  oci::Digest chain = diff_ids.front();
  for (size_t i = 1; i < diff_ids.size(); ++i) {
    chain = oci::Digest::of(fmt::format("{} {}", chain.str(), diff_ids[i].str()));
  }
  return chain;
}

Result<RootfsCache> RootfsCache::open(const fs::path& dir, const IdMap& map)
{
  auto uid = map.uids.to_host(0);
  auto gid = map.gids.to_host(0);
  if (!uid || !gid) {
    return fail("rootfs cache: the id map does not map container root");
  }
  fs::path owned = dir / fmt::format("u{}-g{}", *uid, *gid);
  std::error_code ec;
  fs::create_directories(owned, ec);
  if (ec) {
    return fail(fmt::format("create \"{}\": {}", owned.string(), ec.message()));
  }
  return RootfsCache(owned, map);
}

Result<void> RootfsCache::make_root_owned_dir(const fs::path& dir) const
{
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return fail(fmt::format("create \"{}\": {}", dir.string(), ec.message()));
  }
  // As root, container root is an unprivileged host id: hand it the directory.
  if (::geteuid() == 0 && ::chown(dir.c_str(), *m_map.uids.to_host(0), *m_map.gids.to_host(0)) != 0) {
    return fail(fmt::format("chown \"{}\": {}", dir.string(), errno_text(errno)));
  }
  ::chmod(dir.c_str(), 0755);
  return {};
}

Result<fs::path> RootfsCache::ensure(const oci::Layout& layout, const std::vector<oci::Descriptor>& layers,
                                     const std::vector<oci::Digest>& diff_ids,
                                     const std::function<void(const std::string&)>& warn, bool* did_extract) const
{
  if (did_extract != nullptr) {
    *did_extract = false;
  }
  std::string hex = chain_id(diff_ids).hex();
  fs::path final_dir = m_dir / hex;
  std::error_code ec;
  if (fs::is_directory(final_dir, ec)) {
    return final_dir;
  }
  auto lock = FileLock::acquire(m_dir / (hex + ".lock"));
  if (!lock) {
    return fail(lock.error());
  }
  if (fs::is_directory(final_dir, ec)) {
    return final_dir; // another process extracted it while we waited
  }
  fs::path temp = m_dir / fmt::format(".tmp-{}-{}", hex.substr(0, 12), unique_suffix());
  if (auto r = make_root_owned_dir(temp); !r) {
    return fail(r.error());
  }
  auto opened = open_layers(temp, layout, layers);
  auto extracted = opened ? run_in_namespace(m_map, [&]() -> Result<void> {
    return apply_layers(*opened, layers, diff_ids, warn);
  })
                          : Result<void>(fail(opened.error()));
  if (!extracted) {
    (void)remove_tree(temp, m_map);
    return fail(extracted.error());
  }
  if (::rename(temp.c_str(), final_dir.c_str()) != 0) {
    int err = errno;
    (void)remove_tree(temp, m_map);
    return fail(fmt::format("rename \"{}\" to \"{}\": {}", temp.string(), final_dir.string(), errno_text(err)));
  }
  if (did_extract != nullptr) {
    *did_extract = true;
  }
  return final_dir;
}

bool RootfsCache::has_chain(const std::vector<oci::Digest>& diff_ids) const
{
  std::error_code ec;
  return fs::is_directory(m_dir / chain_id(diff_ids).hex(), ec);
}

Result<void> RootfsCache::apply_into(const fs::path& dir, const oci::Layout& layout, const oci::Descriptor& layer,
                                     const oci::Digest& diff_id,
                                     const std::function<void(const std::string&)>& warn) const
{
  if (auto r = make_root_owned_dir(dir); !r) {
    return r;
  }
  auto opened = open_layers(dir, layout, {layer});
  if (!opened) {
    return fail(opened.error());
  }
  return run_in_namespace(m_map, [&]() -> Result<void> { return apply_layers(*opened, {layer}, {diff_id}, warn); });
}

std::optional<fs::path> RootfsCache::find_layer_dir(const oci::Digest& diff_id) const
{
  fs::path dir = m_dir / layer_dir_name(diff_id);
  std::error_code ec;
  return fs::is_directory(dir, ec) ? std::optional(dir) : std::nullopt;
}

Result<fs::path> RootfsCache::ensure_layer_dir(const oci::Layout& layout, const oci::Descriptor& layer,
                                               const oci::Digest& diff_id,
                                               const std::function<void(const std::string&)>& warn) const
{
  if (auto found = find_layer_dir(diff_id)) {
    return *found;
  }
  fs::path temp = m_dir / fmt::format(".tmp-{}-{}", diff_id.hex().substr(0, 12), unique_suffix());
  if (auto applied = apply_into(temp, layout, layer, diff_id, warn); !applied) {
    (void)remove_tree(temp, m_map);
    return fail(applied.error());
  }
  return adopt_layer_dir(temp, diff_id);
}

Result<fs::path> RootfsCache::adopt_layer_dir(const fs::path& dir, const oci::Digest& diff_id) const
{
  fs::path final_dir = m_dir / layer_dir_name(diff_id);
  if (::rename(dir.c_str(), final_dir.c_str()) == 0) {
    return final_dir;
  }
  int err = errno;
  std::error_code ec;
  if ((err == EEXIST || err == ENOTEMPTY) && fs::is_directory(final_dir, ec)) {
    (void)remove_tree(dir, m_map); // the same files, built by a concurrent build
    return final_dir;
  }
  return fail(fmt::format("rename \"{}\" to \"{}\": {}", dir.string(), final_dir.string(), errno_text(err)));
}

Result<FlattenedImage> flatten_image(const oci::Layout& layout, const std::vector<oci::Descriptor>& layers,
                                     const std::vector<oci::Digest>& diff_ids, const fs::path& cache_dir,
                                     const std::function<void(const std::string&)>& warn)
{
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  auto lease = FileLock::acquire(cache_dir / "lock", LockMode::shared);
  if (!lease) {
    return fail(lease.error());
  }
  auto cache = RootfsCache::open(cache_dir / "rootfs", current_id_map());
  if (!cache) {
    return fail(cache.error());
  }
  auto rootfs = cache->ensure(layout, layers, diff_ids, warn);
  if (!rootfs) {
    return fail(rootfs.error());
  }
  return FlattenedImage{*rootfs, std::move(*lease)};
}

fs::path default_cache_dir()
{
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "kiln";
  }
  if (::geteuid() == 0) {
    return "/var/cache/kiln";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr && home[0] != '\0' ? home : "/") / ".cache" / "kiln";
}

} // namespace kiln::builder
