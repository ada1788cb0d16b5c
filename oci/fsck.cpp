#include "oci/fsck.hpp"

#include <chrono>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/mediatype.hpp"

namespace fs = std::filesystem;

namespace kiln::oci {

namespace {

class Checker
{
public:
  Checker(const Layout& layout, FsckReport& report) : m_layout(layout), m_report(report) {}

  // Checks a blob and, for manifests and indexes, what they name. `from`
  // says who names it, for messages.
  void check(const Descriptor& d, const std::string& from)
  {
    if (!m_report.reachable.insert(d.digest.str()).second) {
      return;
    }
    ++m_report.blobs_checked;
    bool small = mediatype::is_index(d.media_type) || mediatype::is_manifest(d.media_type)
                 || d.media_type == mediatype::k_oci_config || d.media_type == mediatype::k_docker_config;
    std::string name = fmt::format("blobs/{}/{}", d.digest.algorithm_name(), d.digest.hex());
    if (!m_layout.has_blob(d.digest)) {
      problem(fmt::format("{} ({}, named by {}): blob is missing", name, d.media_type, from));
      return;
    }
    auto bytes = m_layout.read_blob(d);
    if (!bytes) {
      problem(fmt::format("{} (named by {})", bytes.error(), from));
      return;
    }
    if (!small) {
      return;
    }
    if (mediatype::is_index(d.media_type)) {
      auto index = ImageIndex::parse(*bytes);
      if (!index) {
        problem(fmt::format("{}: {}", name, index.error()));
        return;
      }
      for (const auto& child : index->manifests) {
        check(child, d.digest.short_str());
      }
    } else if (mediatype::is_manifest(d.media_type)) {
      auto manifest = ImageManifest::parse(*bytes);
      if (!manifest) {
        problem(fmt::format("{}: {}", name, manifest.error()));
        return;
      }
      check(manifest->config, d.digest.short_str());
      for (const auto& layer : manifest->layers) {
        check(layer, d.digest.short_str());
      }
      check_config_agrees(*manifest, d);
    }
  }

private:
  void check_config_agrees(const ImageManifest& manifest, const Descriptor& d)
  {
    const auto& type = manifest.config.media_type;
    if (type != mediatype::k_oci_config && type != mediatype::k_docker_config) {
      return; // an artifact (signature, attestation): its config is not an image config
    }
    auto bytes = m_layout.read_blob(manifest.config);
    if (!bytes) {
      return; // already reported
    }
    auto config = ImageConfig::parse(*bytes);
    if (!config) {
      problem(fmt::format("blobs/sha256/{}: {}", manifest.config.digest.hex(), config.error()));
      return;
    }
    if (config->diff_ids.size() != manifest.layers.size()) {
      problem(fmt::format("manifest {}: {} layers but its config lists {} diff_ids", d.digest.short_str(),
                          manifest.layers.size(), config->diff_ids.size()));
    }
  }

  void problem(std::string text) { m_report.problems.push_back(std::move(text)); }

  const Layout& m_layout;
  FsckReport& m_report;
};

} // namespace

FsckReport fsck(const Layout& layout)
{
  FsckReport report;
  auto index = layout.read_index();
  if (!index) {
    report.problems.push_back(index.error());
    return report;
  }
  Checker checker(layout, report);
  for (const auto& entry : index->manifests) {
    auto tag = entry.annotations.find(std::string(k_annotation_ref_name));
    checker.check(entry, tag != entry.annotations.end() ? fmt::format("tag \"{}\"", tag->second)
                                                        : std::string("index.json"));
  }
  return report;
}

Result<GcReport> collect_garbage(const Layout& layout, const FsckReport& report)
{
  if (!report.problems.empty()) {
    return fail(fmt::format("gc \"{}\": refused, the layout has {} problem(s); fix them first",
                            layout.path().string(), report.problems.size()));
  }
  std::set<std::string> keep = report.reachable;
  std::vector<std::pair<Digest, fs::path>> candidates;
  std::error_code ec;
  std::vector<fs::path> temporaries;
  for (const auto& algorithm : fs::directory_iterator(layout.path() / "blobs", ec)) {
    for (const auto& blob : fs::directory_iterator(algorithm.path(), ec)) {
      std::string name = blob.path().filename().string();
      if (name.starts_with(".tmp-")) {
        temporaries.push_back(blob.path());
        continue;
      }
      auto digest = Digest::parse(fmt::format("{}:{}", algorithm.path().filename().string(), name));
      if (digest && !keep.contains(digest->str())) {
        candidates.emplace_back(*digest, blob.path());
      }
    }
  }
  // Referrers: small manifests whose subject is kept, and what they name.
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [digest, path] : candidates) {
      if (keep.contains(digest.str()) || fs::file_size(path, ec) > (4u << 20)) {
        continue;
      }
      auto bytes = layout.read_blob(digest);
      auto manifest = bytes ? ImageManifest::parse(*bytes) : Result<ImageManifest>(fail(""));
      if (manifest && manifest->subject && keep.contains(manifest->subject->digest.str())) {
        keep.insert(digest.str());
        keep.insert(manifest->config.digest.str());
        for (const auto& layer : manifest->layers) {
          keep.insert(layer.digest.str());
        }
        grew = true;
      }
    }
  }
  GcReport gc;
  auto now = std::chrono::system_clock::now();
  std::vector<fs::path> removable = std::move(temporaries);
  for (const auto& [digest, path] : candidates) {
    if (!keep.contains(digest.str())) {
      removable.push_back(path);
    }
  }
  for (const auto& path : removable) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      continue;
    }
    auto modified = std::chrono::system_clock::from_time_t(st.st_mtime);
    if (now - modified < std::chrono::hours(1)) {
      ++gc.kept_recent;
      continue;
    }
    if (::unlink(path.c_str()) == 0) {
      ++gc.removed;
      gc.bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  return gc;
}

} // namespace kiln::oci
