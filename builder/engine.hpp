#pragma once

// The build engine: walks the front end's model stage by stage and step by
// step, producing layers through the layer writer, RUN steps through the
// sandbox, and the final image into every destination.
//
//   parse → resolve bases → for each needed stage: for each step:
//       config-only step → config + history
//       COPY/ADD         → layer from the context or another stage's rootfs
//       RUN              → sandbox over the stage's lower dirs → upper dir → layer
//   → config + manifest → each -t destination, atomically

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "builder/sandbox.hpp"
#include "oci/compression.hpp"
#include "oci/descriptor.hpp"
#include "oci/reference.hpp"

namespace kiln::builder {

enum class BaseTrust { verify, insecure_allow_unverified };

struct BuildSecret
{
  std::string id;
  std::filesystem::path source;
};

// --no-cache: steps are built again (and the cache refreshed), never looked up.
enum class CacheMode { use, refresh };

struct BuildOptions
{
  std::filesystem::path containerfile;
  std::filesystem::path context;
  std::optional<std::filesystem::path> ignorefile;
  std::vector<oci::ImageReference> destinations;
  std::vector<std::pair<std::string, std::string>> build_args;
  std::optional<std::string> target;
  oci::Platform platform;
  Network network = Network::none;
  oci::CompressionOptions compression;
  std::optional<int64_t> epoch; // --timestamp or SOURCE_DATE_EPOCH
  BaseTrust trust = BaseTrust::verify;
  std::optional<std::filesystem::path> policy; // --policy; else the usual places (signer/policy.hpp)
  std::vector<BuildSecret> secrets;
  std::filesystem::path cache_dir; // $XDG_CACHE_HOME/kiln by default
  CacheMode cache = CacheMode::use;
  unsigned jobs = 1; // stages built at once (--jobs)
  // --cache-log: one JSON object per step (key, hit or miss and why).
  std::optional<std::filesystem::path> cache_log;
  // Progress lines ("[1/2] STEP 3/7: RUN ..."), and RUN output as it arrives.
  std::function<void(std::string_view)> progress;
  std::function<void(OutputStream, std::string_view)> output;
  int cancel_fd = -1;
};

struct BuildResult
{
  oci::Descriptor manifest;
  size_t steps = 0;  // steps looked up (FROM included)
  size_t cached = 0; // of which found in the cache
  // Context files checked, read and bytes hashed for cache keys.
  uint64_t files_checked = 0;
  uint64_t files_hashed = 0;
  uint64_t bytes_hashed = 0;
};

// Builds; throws kiln::Error naming the step (FILE:LINE) and the cause.
BuildResult build(const BuildOptions& options);


} // namespace kiln::builder
