#pragma once

// Flattened root filesystems of layer chains, the overlay lower directory a
// stage's RUN steps start from:
//
//   DIR/<owner>/<chain id hex>/    the chain's layers applied in order
//   DIR/<owner>/<chain id hex>.lock
//   DIR/<owner>/layer-<diff_id hex>/  one built step's files alone, a lower
//                                  directory stacked on a chain (a RUN's
//                                  overlay upper dir, whiteouts included)
//
// <owner> names the host ids container root maps to ("u1000-g1000"): the
// files carry host ids of the build's id map, so each map has its own tree.
// A chain is extracted once, inside the user namespace (so owners land as
// the container expects), into a temporary directory renamed into place.

#include <filesystem>
#include <optional>
#include <vector>

#include "base/fileio.hpp"
#include "builder/idmap.hpp"
#include "oci/layout.hpp"

namespace kiln::builder {

// OCI's ChainID: the first diff_id, then sha256(chain + " " + next diff_id).
oci::Digest chain_id(const std::vector<oci::Digest>& diff_ids);

class RootfsCache
{
public:
  static Result<RootfsCache> open(const std::filesystem::path& dir, const IdMap& map);

  // The flattened chain of `layers` (blobs in layout, diff_ids from the
  // config), extracting it when no process has yet; `did_extract` (when
  // given) says whether this call did, reading every blob whole with its
  // digest checked.
  Result<std::filesystem::path> ensure(const oci::Layout& layout, const std::vector<oci::Descriptor>& layers,
                                       const std::vector<oci::Digest>& diff_ids,
                                       const std::function<void(const std::string&)>& warn,
                                       bool* did_extract = nullptr) const;

  // Whether the flattened chain of these diff_ids is already there.
  bool has_chain(const std::vector<oci::Digest>& diff_ids) const;

  // Applies one layer blob onto a fresh directory under scratch (for a
  // COPY step's files); the directory is owned by container root.
  Result<void> apply_into(const std::filesystem::path& dir, const oci::Layout& layout, const oci::Descriptor& layer,
                          const oci::Digest& diff_id, const std::function<void(const std::string&)>& warn) const;

  // A built step's lower directory, when an earlier build left it.
  std::optional<std::filesystem::path> find_layer_dir(const oci::Digest& diff_id) const;
  // The same, applying the layer (which must hold no whiteouts: a COPY's)
  // into it first when missing.
  Result<std::filesystem::path> ensure_layer_dir(const oci::Layout& layout, const oci::Descriptor& layer,
                                                 const oci::Digest& diff_id,
                                                 const std::function<void(const std::string&)>& warn) const;
  // Moves dir (a RUN's upper directory, on the same file system) into place
  // as the layer's lower directory; when another build got there first, dir
  // is removed and theirs is used.
  Result<std::filesystem::path> adopt_layer_dir(const std::filesystem::path& dir, const oci::Digest& diff_id) const;
  static std::string layer_dir_name(const oci::Digest& diff_id) { return "layer-" + diff_id.hex(); }

  const IdMap& id_map() const { return m_map; }
  // Creates an empty directory owned by container root.
  Result<void> make_root_owned_dir(const std::filesystem::path& dir) const;

private:
  RootfsCache(std::filesystem::path dir, IdMap map) : m_dir(std::move(dir)), m_map(std::move(map)) {}
  std::filesystem::path m_dir;
  IdMap m_map;
};

// A flattened image and a shared hold on its cache (the lock builds take),
// so that `kiln cache prune` waits until the caller is done with it.
struct FlattenedImage
{
  std::filesystem::path rootfs;
  FileLock lease;
};

// The flattened root filesystem of an image whose blobs are in layout,
// through the rootfs cache under cache_dir with the current user's id map
// (what `kiln scan REF`, `kiln run REF` and `kiln build --scan` read).
Result<FlattenedImage> flatten_image(const oci::Layout& layout, const std::vector<oci::Descriptor>& layers,
                                            const std::vector<oci::Digest>& diff_ids,
                                            const std::filesystem::path& cache_dir,
                                            const std::function<void(const std::string&)>& warn);

// kiln's cache directory: --cache-dir, else $XDG_CACHE_HOME/kiln, else
// ~/.cache/kiln; as root /var/cache/kiln, because container root is an
// unprivileged host id that must be able to reach it (buildah keeps root's
// storage under /var/lib/containers for the same reason).
std::filesystem::path default_cache_dir();

} // namespace kiln::builder
