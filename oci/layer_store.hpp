#pragma once

// Extracted layers, each once, in a directory keyed by diff_id, shared by
// concurrent kiln processes:
//
//   STORE/<hex>/rootfs/          the layer applied onto an empty directory
//   STORE/<hex>/ownership.json   what could not be applied (oci/ownership.hpp)
//   STORE/<hex>.lock             flock()ed while <hex> is being extracted
//   STORE/.tmp-<hex>-XXXXXX/     an extraction in progress
//
// A layer is extracted into a temporary directory and renamed to <hex> only
// after its whole stream was read and its diff_id matched, so a corrupted or
// truncated blob leaves nothing behind and a reader never sees half a layer.

#include <filesystem>
#include <functional>
#include <optional>

#include "base/result.hpp"
#include "oci/layer_apply.hpp"

namespace kiln::oci {

struct StoredLayer
{
  Digest diff_id;
  std::filesystem::path rootfs;
  std::vector<OwnershipRecord> unapplied;
};

class LayerStore
{
public:
  // Opens (creating) the store at dir.
  static Result<LayerStore> open(const std::filesystem::path& dir);
  // $XDG_CACHE_HOME/kiln/layers, else ~/.cache/kiln/layers.
  static std::filesystem::path default_path();

  const std::filesystem::path& path() const { return m_dir; }
  std::optional<StoredLayer> find(const Digest& diff_id) const;
  // The extracted layer, extracting it first from the blob open_blob gives
  // when no process has yet; checks the diff_id (and blob digest if given).
  Result<StoredLayer> ensure(const Digest& diff_id, const std::function<Result<Fd>()>& open_blob,
                             const std::optional<Digest>& blob_digest = std::nullopt,
                             const std::function<void(const std::string&)>& warn = {}) const;

private:
  explicit LayerStore(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  std::filesystem::path m_dir;
};

} // namespace kiln::oci
