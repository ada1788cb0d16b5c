#include "oci/layer_store.hpp"

#include <cerrno>
#include <cstdlib>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"

namespace fs = std::filesystem;

namespace kiln::oci {

Result<LayerStore> LayerStore::open(const fs::path& dir)
{
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return fail(fmt::format("create layer store \"{}\": {}", dir.string(), ec.message()));
  }
  return LayerStore(dir);
}

fs::path LayerStore::default_path()
{
  const char* cache = std::getenv("XDG_CACHE_HOME");
  if (cache != nullptr && *cache == '/') {
    return fs::path(cache) / "kiln" / "layers";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : "/") / ".cache" / "kiln" / "layers";
}

std::optional<StoredLayer> LayerStore::find(const Digest& diff_id) const
{
  fs::path dir = m_dir / diff_id.hex();
  std::error_code ec;
  if (!fs::is_directory(dir / "rootfs", ec)) {
    return std::nullopt;
  }
  StoredLayer layer{diff_id, dir / "rootfs", {}};
  if (auto text = read_file(dir / "ownership.json")) {
    if (auto records = parse_ownership_json(*text)) {
      layer.unapplied = std::move(*records);
    }
  }
  return layer;
}

Result<StoredLayer> LayerStore::ensure(const Digest& diff_id, const std::function<Result<Fd>()>& open_blob,
                                       const std::optional<Digest>& blob_digest,
                                       const std::function<void(const std::string&)>& warn) const
{
  if (auto found = find(diff_id)) {
    return *found;
  }
  auto lock = FileLock::acquire(m_dir / (diff_id.hex() + ".lock"));
  if (!lock) {
    return fail(lock.error());
  }
  // Another process may have finished it while this one waited.
  if (auto found = find(diff_id)) {
    return *found;
  }
  auto blob = open_blob();
  if (!blob) {
    return fail(blob.error());
  }
  TempDir temp(m_dir, fmt::format(".tmp-{}-", diff_id.hex().substr(0, 16)));
  fs::create_directory(temp.path() / "rootfs");
  ::chmod(temp.path().c_str(), 0755);
  Fd root(::open((temp.path() / "rootfs").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    return fail(fmt::format("open \"{}\": {}", (temp.path() / "rootfs").string(), errno_text(errno)));
  }
  ApplyOptions options;
  options.expected = {diff_id, blob_digest};
  options.warn = warn;
  auto applied = apply_layer(root.get(), std::move(*blob), diff_id.short_str(), options);
  if (!applied) {
    return fail(applied.error());
  }
  auto written = write_file_atomic(temp.path() / "ownership.json", ownership_json(applied->unapplied),
                                   Durable::no);
  if (!written) {
    return fail(written.error());
  }
  fs::path final_dir = m_dir / diff_id.hex();
  if (::rename(temp.path().c_str(), final_dir.c_str()) != 0) {
    return fail(fmt::format("rename \"{}\" to \"{}\": {}", temp.path().string(), final_dir.string(),
                            errno_text(errno)));
  }
  temp.release();
  return StoredLayer{diff_id, final_dir / "rootfs", std::move(applied->unapplied)};
}

} // namespace kiln::oci
