#pragma once

// kiln's build cache: what each build step produced, found again by a key
// computed from everything the step can see, never from mtimes.
//
//   CACHE/blobs/                   an OCI layout holding every blob a build used
//   CACHE/steps/<key hex>.json     one entry per key (its mtime: last use)
//   CACHE/steps/<key hex>.files    the source manifest of a COPY/ADD, for "N files changed"
//   CACHE/children/<parent hex>/<key hex>   entries built on one parent, to explain a miss
//   CACHE/aliases/<alias hex>      a COPY --from=STAGE's file digest under that stage's state
//   CACHE/rootfs/…                 lower directories (builder/rootfs.hpp)
//   CACHE/context/…                stat caches of build contexts (builder/statcache.hpp)
//   CACHE/lock                     shared by builds, exclusive for prune
//
// A step's key is sha256 over its StepInputs: the parent state's key (the
// stage's state after the steps before: base manifest digest, layer
// diff_ids and config), the instruction after expansion, the platform, the
// layer options (compression and timestamp decide the layer's bytes), and
// per kind: for RUN the ARGs and ENV it sees and the id map; for COPY/ADD
// from the context the digest of the source manifest (paths, contents,
// modes, owners after --chown/--chmod, link targets); for COPY --from an
// image its manifest digest, for COPY --from a stage the digest of the
// files it copies (found through an alias keyed by the stage's state, so
// an unchanged stage is not read again); for RUN --mount from= a stage its
// state key. FROM's key is the base image's manifest digest under a parent
// naming the reference, so a moved tag explains itself.
//
// Entries are written to a temporary file and renamed; concurrent builds
// may store the same key, and either entry is right.

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/fileio.hpp"
#include "oci/descriptor.hpp"
#include "oci/json.hpp"
#include "oci/layout.hpp"

namespace kiln::builder {

struct StepInputs
{
  // In the key:
  std::string parent;     // the parent state's key (hex)
  std::string kind;       // "RUN", "COPY", ..., "FROM"
  oci::Json instruction;  // the step as the front end modelled it, location removed
  std::string platform;
  std::string layer;      // layer options: compression, level, timestamp
  std::vector<std::pair<std::string, std::string>> args; // RUN: the ARGs in scope
  std::vector<std::string> env;                          // RUN: the config's Env
  std::string id_map;                                    // RUN: "single id" or "ranges"
  std::vector<std::string> from; // state keys of stages, digests of images the step reads
  std::string files;             // digest of the source manifest (context sources)
  // Not in the key, for messages:
  std::string location; // "Containerfile:12"
  std::string summary;  // the instruction as written, shortened

  oci::Json to_json() const;
  static StepInputs from_json(const oci::Json& json);
  oci::Digest key() const;
};

// The files a step reads from the build context: a display path (relative
// to the context) and a digest of everything kept of it (destination path,
// type, mode, owner, link target, content), sorted by path.
struct SourceManifest
{
  std::vector<std::pair<std::string, std::string>> files;

  oci::Digest digest() const;
  std::string text() const;
  static SourceManifest parse(std::string_view text);
};

struct CacheEntry
{
  oci::Digest key;
  StepInputs inputs;
  std::string created; // the step's history time
  std::optional<oci::Descriptor> layer;
  std::optional<oci::Digest> diff_id;
  // What the entry keeps alive, for `kiln cache prune`: blobs in CACHE/blobs
  // and directories under CACHE/rootfs/<owner>/.
  std::vector<oci::Digest> blobs;
  std::vector<std::string> dirs;

  oci::Json to_json() const;
  static Result<CacheEntry> from_json(const oci::Json& json);
};

// "1 file changed: src/app.py", "2 files added: a, b; 1 file removed: c".
std::string describe_changes(const SourceManifest& before, const SourceManifest& after);

// Why `inputs` differs from an earlier entry built on the same parent.
std::string describe_difference(const StepInputs& before, const StepInputs& after,
                                const SourceManifest* before_files, const SourceManifest* after_files);

enum class CacheUse { shared, exclusive };

class BuildCache
{
public:
  // Opens (creating) the cache under dir, holding its lock: shared for a
  // build, exclusive for prune.
  static Result<BuildCache> open(const std::filesystem::path& dir, CacheUse use = CacheUse::shared);

  const std::filesystem::path& path() const { return m_dir; }
  const oci::Layout& blobs() const { return m_blobs; }

  // The entry for key when it is there, readable and its layer blob is
  // present; marks it used.
  std::optional<CacheEntry> find(const oci::Digest& key) const;
  Result<void> store(const CacheEntry& entry, const SourceManifest* manifest = nullptr) const;
  // Why nothing was found for inputs, from the entries built on the same
  // parent ("" when there are none to compare with).
  std::string explain_miss(const StepInputs& inputs, const SourceManifest* manifest) const;

  // Aliases: a key computed cheaply that stands for a costlier input (a
  // COPY --from's file digest under its stage's state key).
  std::optional<std::string> find_alias(const oci::Digest& alias) const;
  Result<void> store_alias(const oci::Digest& alias, const std::string& value) const;

  // Every readable entry, with its last use (seconds since the epoch).
  std::vector<std::pair<CacheEntry, int64_t>> entries() const;
  // Removes an entry (its .json, .files and children link).
  void remove(const CacheEntry& entry) const;

private:
  BuildCache(std::filesystem::path dir, oci::Layout blobs, FileLock lock)
      : m_dir(std::move(dir)), m_blobs(std::move(blobs)), m_lock(std::move(lock))
  {
  }
  std::filesystem::path entry_path(const oci::Digest& key, std::string_view suffix) const;

  std::filesystem::path m_dir;
  oci::Layout m_blobs;
  FileLock m_lock;
};

} // namespace kiln::builder
