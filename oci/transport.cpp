#include "oci/transport.hpp"

#include <cstdlib>
#include <functional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"
#include "oci/archive.hpp"
#include "oci/mediatype.hpp"

namespace fs = std::filesystem;

namespace kiln::oci {

namespace {

fs::path temp_parent()
{
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && tmp[0] == '/' ? fs::path(tmp) : fs::path("/var/tmp");
}

bool is_layout_member(std::string_view name)
{
  if (name == "oci-layout" || name == "index.json") {
    return true;
  }
  auto parts = split(name, '/');
  return parts.size() == 3 && parts[0] == "blobs" && Digest::parse(fmt::format("{}:{}", parts[1], parts[2]));
}

// docker save format (manifest.json):
//   [{"Config": "<path>", "RepoTags": ["name:tag", ...], "Layers": ["<path>", ...]}, ...]
// Paths are relative to the archive root; Docker writes <id>/layer.tar or
// blobs/sha256/<hex>, skopeo <hex>.tar.
struct DockerArchiveEntry
{
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};

Result<std::vector<DockerArchiveEntry>> read_docker_manifest(const fs::path& dir, const fs::path& archive)
{
  auto bytes = read_file(dir / "manifest.json");
  if (!bytes) {
    return fail(fmt::format("read docker-archive \"{}\": no manifest.json", archive.string()));
  }
  auto json = parse_json(*bytes, fmt::format("\"{}\" manifest.json", archive.string()));
  if (!json) {
    return fail(json.error());
  }
  std::vector<DockerArchiveEntry> entries;
  try {
    for (auto& item : json->get_ref<Json::array_t&>()) {
      DockerArchiveEntry entry;
      entry.config = item.at("Config").get<std::string>();
      if (item.contains("RepoTags") && item["RepoTags"].is_array()) {
        entry.repo_tags = item["RepoTags"].get<std::vector<std::string>>();
      }
      entry.layers = item.at("Layers").get<std::vector<std::string>>();
      for (const auto& path : entry.layers) {
        if (!is_safe_relative_name(path)) {
          return fail(fmt::format("read docker-archive \"{}\": unsafe layer path \"{}\"", archive.string(), path));
        }
      }
      if (!is_safe_relative_name(entry.config)) {
        return fail(fmt::format("read docker-archive \"{}\": unsafe config path \"{}\"", archive.string(),
                                entry.config));
      }
      entries.push_back(std::move(entry));
    }
  } catch (const Json::exception& e) {
    return fail(fmt::format("read docker-archive \"{}\": manifest.json: {}", archive.string(), e.what()));
  }
  if (entries.empty()) {
    return fail(fmt::format("read docker-archive \"{}\": manifest.json lists no image", archive.string()));
  }
  return entries;
}

// The layer media type a file's first bytes announce.
std::string_view sniff_layer_media_type(const fs::path& file)
{
  unsigned char head[4] = {};
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ssize_t n = fd ? ::read(fd.get(), head, sizeof(head)) : -1;
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    return mediatype::k_oci_layer_gzip;
  }
  if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) {
    return mediatype::k_oci_layer_zstd;
  }
  return mediatype::k_oci_layer_tar;
}

// Turns a docker save archive's chosen image into an OCI manifest in `layout`.
Result<Descriptor> import_docker_archive(const ImageReference& reference, const fs::path& dir, const Layout& layout)
{
  auto entries = read_docker_manifest(dir, reference.path);
  if (!entries) {
    return fail(entries.error());
  }
  const DockerArchiveEntry* chosen = nullptr;
  if (reference.docker) {
    for (const auto& entry : *entries) {
      for (const auto& tag : entry.repo_tags) {
        auto parsed = DockerReference::parse(tag);
        if (parsed && parsed->str() == reference.docker->str()) {
          chosen = &entry;
        }
      }
    }
    if (chosen == nullptr) {
      return fail(fmt::format("resolve \"{}\" in docker-archive \"{}\": no such tag", reference.docker->str(),
                              reference.path.string()));
    }
  } else if (entries->size() == 1) {
    chosen = &entries->front();
  } else {
    return fail(fmt::format("docker-archive \"{}\" holds {} images: name one (docker-archive:FILE:NAME:TAG)",
                            reference.path.string(), entries->size()));
  }
  auto config = layout.write_blob_from_file(dir / chosen->config, mediatype::k_oci_config);
  if (!config) {
    return fail(config.error());
  }
  auto config_bytes = layout.read_blob(*config);
  auto parsed = config_bytes ? ImageConfig::parse(*config_bytes) : Result<ImageConfig>(fail(config_bytes.error()));
  if (!parsed) {
    return fail(fmt::format("docker-archive \"{}\": {}", reference.path.string(), parsed.error()));
  }
  if (parsed->diff_ids.size() != chosen->layers.size()) {
    return fail(fmt::format("docker-archive \"{}\": {} layers but the config lists {} diff_ids",
                            reference.path.string(), chosen->layers.size(), parsed->diff_ids.size()));
  }
  ImageManifest manifest;
  manifest.media_type = mediatype::k_oci_manifest;
  manifest.config = *config;
  for (size_t i = 0; i < chosen->layers.size(); ++i) {
    fs::path file = dir / chosen->layers[i];
    std::string_view media_type = sniff_layer_media_type(file);
    auto layer = layout.write_blob_from_file(file, media_type);
    if (!layer) {
      return fail(fmt::format("docker-archive \"{}\": layer \"{}\": {}", reference.path.string(),
                              chosen->layers[i], layer.error()));
    }
    if (media_type == mediatype::k_oci_layer_tar && layer->digest != parsed->diff_ids[i]) {
      return fail(fmt::format("docker-archive \"{}\": layer \"{}\" has digest {}, the config says {}",
                              reference.path.string(), chosen->layers[i], layer->digest.str(),
                              parsed->diff_ids[i].str()));
    }
    manifest.layers.push_back(*layer);
  }
  return layout.write_blob(manifest.serialize(), mediatype::k_oci_manifest);
}

// Writes `top` from `layout` as a docker save archive at `archive`.
Result<void> export_docker_archive(const Layout& layout, const Descriptor& top, const ImageReference& reference,
                                   const fs::path& work)
{
  auto image = load_image(layout, top, Platform::host());
  if (!image) {
    return fail(image.error());
  }
  std::vector<ArchiveMember> members;
  std::string config_name = image->manifest.config.digest.hex() + ".json";
  members.push_back({config_name, layout.blob_path(image->manifest.config.digest)});
  Json layers = Json::array();
  for (size_t i = 0; i < image->manifest.layers.size(); ++i) {
    const Descriptor& layer = image->manifest.layers[i];
    const Digest& diff_id = image->config.diff_ids[i];
    std::string name = diff_id.hex() + ".tar";
    fs::path file = work / name;
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      auto compression = mediatype::layer_compression(layer.media_type);
      if (compression == mediatype::LayerCompression::none) {
        if (layer.digest != diff_id) {
          return fail(fmt::format("layer {}: uncompressed but its digest differs from diff_id {}",
                                  layer.digest.short_str(), diff_id.short_str()));
        }
        auto verified = layout.read_blob(layer);
        if (!verified) {
          return fail(verified.error());
        }
        fs::copy_file(layout.blob_path(layer.digest), file, ec);
        if (ec) {
          return fail(fmt::format("copy layer {}: {}", layer.digest.short_str(), ec.message()));
        }
      } else if (auto r = decompress_layer(layout, layer, diff_id, file); !r) {
        return r;
      }
      members.push_back({name, file});
    }
    layers.push_back(name);
  }
  Json manifest = Json::array();
  Json entry = Json::object();
  entry["Config"] = config_name;
  entry["RepoTags"] = Json::array();
  if (reference.docker) {
    entry["RepoTags"].push_back(reference.docker->str());
  }
  entry["Layers"] = std::move(layers);
  manifest.push_back(std::move(entry));
  fs::path manifest_file = work / "manifest.json";
  if (auto r = write_file_atomic(manifest_file, dump_json(manifest), Durable::no); !r) {
    return r;
  }
  members.push_back({"manifest.json", manifest_file});
  return write_store_archive(reference.path, members, archive_mtime());
}

// Packs a layout directory as an oci-archive: oci-layout, index.json, then
// the blobs in digest order.
Result<void> export_oci_archive(const Layout& layout, const fs::path& archive)
{
  std::vector<ArchiveMember> members{{"oci-layout", layout.path() / "oci-layout"},
                                     {"index.json", layout.path() / "index.json"}};
  std::vector<std::string> blobs;
  std::error_code ec;
  for (const auto& algorithm : fs::directory_iterator(layout.path() / "blobs", ec)) {
    for (const auto& blob : fs::directory_iterator(algorithm.path(), ec)) {
      std::string name = blob.path().filename().string();
      if (!name.starts_with(".")) {
        blobs.push_back(fmt::format("blobs/{}/{}", algorithm.path().filename().string(), name));
      }
    }
  }
  std::sort(blobs.begin(), blobs.end());
  for (const auto& name : blobs) {
    members.push_back({name, layout.path() / name});
  }
  return write_store_archive(archive, members, archive_mtime());
}

} // namespace

int64_t archive_mtime()
{
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  if (epoch != nullptr) {
    if (auto value = parse_u64(epoch)) {
      return static_cast<int64_t>(*value);
    }
  }
  return 0;
}

ImageSource::ImageSource(ImageSource&&) noexcept = default;
ImageSource& ImageSource::operator=(ImageSource&&) noexcept = default;
ImageSource::~ImageSource() = default;

Result<ImageSource> ImageSource::open(const ImageReference& reference)
{
  ImageSource source;
  source.m_reference = reference;
  switch (reference.transport) {
  case Transport::docker:
    return fail(fmt::format("open \"{}\": the registry transport is not available yet; copy the image into an "
                            "oci: layout or archive first",
                            reference.str()));
  case Transport::oci:
  case Transport::local: {
    auto layout = Layout::open(reference.path);
    if (!layout) {
      if (reference.transport == Transport::local) {
        return fail(fmt::format("resolve \"{}\": no such image in kiln's local store ({})", reference.str(),
                                reference.path.string()));
      }
      return fail(layout.error());
    }
    source.m_layout = std::move(*layout);
    break;
  }
  case Transport::oci_archive:
  case Transport::docker_archive: {
    std::error_code ec;
    if (!fs::is_regular_file(reference.path, ec)) {
      return fail(fmt::format("open \"{}\": no such file", reference.path.string()));
    }
    source.m_temp = std::make_unique<TempDir>(temp_parent(), "kiln-archive-");
    fs::path unpacked = source.m_temp->path() / "archive";
    bool oci = reference.transport == Transport::oci_archive;
    auto extracted = extract_store_archive(reference.path, unpacked, [&](std::string_view name) {
      return oci ? is_layout_member(name) : true;
    });
    if (!extracted) {
      return fail(extracted.error());
    }
    if (oci) {
      auto layout = Layout::open(unpacked);
      if (!layout) {
        return fail(fmt::format("open oci-archive \"{}\": {}", reference.path.string(), layout.error()));
      }
      source.m_layout = std::move(*layout);
    } else {
      auto layout = Layout::create(source.m_temp->path() / "layout");
      if (!layout) {
        return fail(layout.error());
      }
      auto top = import_docker_archive(reference, unpacked, *layout);
      if (!top) {
        return fail(top.error());
      }
      source.m_layout = std::move(*layout);
      source.m_top = *top;
      return source;
    }
    break;
  }
  }
  auto top = source.m_layout->resolve(reference.tag);
  if (!top) {
    return fail(top.error());
  }
  source.m_top = *top;
  return source;
}

ImageDestination::ImageDestination(ImageDestination&&) noexcept = default;
ImageDestination& ImageDestination::operator=(ImageDestination&&) noexcept = default;
ImageDestination::~ImageDestination() = default;

Result<ImageDestination> ImageDestination::open(const ImageReference& reference)
{
  ImageDestination destination;
  destination.m_reference = reference;
  switch (reference.transport) {
  case Transport::docker:
    return fail(fmt::format("write \"{}\": the registry transport is not available yet", reference.str()));
  case Transport::oci:
  case Transport::local: {
    if (reference.transport == Transport::oci && reference.tag.empty()) {
      return fail(fmt::format("write \"{}\": name a tag (oci:DIR:TAG)", reference.str()));
    }
    std::error_code ec;
    fs::path dir = reference.path;
    if (!fs::exists(dir, ec)) {
      fs::path parent = fs::absolute(dir, ec).parent_path();
      fs::create_directories(parent, ec);
      if (ec) {
        return fail(fmt::format("write \"{}\": create \"{}\": {}", reference.str(), parent.string(), ec.message()));
      }
      destination.m_temp = std::make_unique<TempDir>(parent, fmt::format(".{}.tmp-", dir.filename().string()));
      destination.m_final_dir = dir;
      dir = destination.m_temp->path();
    }
    auto layout = Layout::create(dir);
    if (!layout) {
      return fail(layout.error());
    }
    destination.m_layout = std::move(*layout);
    return destination;
  }
  case Transport::oci_archive:
  case Transport::docker_archive: {
    std::error_code ec;
    fs::path parent = reference.path.parent_path().empty() ? fs::path(".") : reference.path.parent_path();
    if (!fs::is_directory(parent, ec)) {
      return fail(fmt::format("write \"{}\": directory \"{}\" does not exist", reference.str(), parent.string()));
    }
    destination.m_temp = std::make_unique<TempDir>(temp_parent(), "kiln-dest-");
    auto layout = Layout::create(destination.m_temp->path() / "layout");
    if (!layout) {
      return fail(layout.error());
    }
    destination.m_layout = std::move(*layout);
    return destination;
  }
  }
  return fail("unknown transport");
}

Result<void> ImageDestination::commit(const Descriptor& top)
{
  switch (m_reference.transport) {
  case Transport::oci:
  case Transport::local: {
    if (auto r = m_layout->set_tag(m_reference.tag, top); !r || m_final_dir.empty()) {
      return r;
    }
    ::chmod(m_temp->path().c_str(), 0755);
    if (::rename(m_temp->path().c_str(), m_final_dir.c_str()) != 0) {
      // Another writer created the layout meanwhile: add to it instead.
      auto existing = Layout::open(m_final_dir);
      if (!existing) {
        return fail(fmt::format("write \"{}\": {}", m_reference.str(), existing.error()));
      }
      if (auto r = copy_blobs(*m_layout, *existing, top); !r) {
        return r;
      }
      return existing->set_tag(m_reference.tag, top);
    }
    m_temp->release();
    m_layout = Layout::open(m_final_dir).value();
    return fsync_dir(fs::absolute(m_final_dir).parent_path());
  }
  case Transport::oci_archive: {
    auto tagged = m_reference.tag.empty()
                    ? m_layout->update_index([&](ImageIndex& index) -> Result<void> {
                        index.manifests = {top};
                        return {};
                      })
                    : m_layout->set_tag(m_reference.tag, top);
    if (!tagged) {
      return tagged;
    }
    return export_oci_archive(*m_layout, m_reference.path);
  }
  case Transport::docker_archive:
    return export_docker_archive(*m_layout, top, m_reference, m_temp->path());
  case Transport::docker:
    break;
  }
  return fail("unknown transport");
}

namespace {

// Hard-links from's blob into to's store under a temporary name, checks the
// digest of what was linked (unless the caller just did) and renames it into
// place. false: the file system or the kernel's link protections refused;
// the caller copies.
Result<bool> link_blob(const Layout& from, const Layout& to, const Digest& digest, bool checked)
{
  fs::path final_path = to.blob_path(digest);
  fs::path temp = final_path.parent_path() / fmt::format(".link-{}-{}", digest.hex().substr(0, 12), unique_suffix());
  if (::link(from.blob_path(digest).c_str(), temp.c_str()) != 0) {
    return false;
  }
  if (!checked) {
    Fd fd(::open(temp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    auto linked = fd ? digest_of_fd(fd.get(), digest.algorithm()) : Result<Digest>(fail("open"));
    if (!linked || *linked != digest) {
      ::unlink(temp.c_str());
      return fail(fmt::format("blob {}: its content does not match its digest", digest.short_str()));
    }
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return fail(fmt::format("rename \"{}\": {}", temp.string(), errno_text(err)));
  }
  return true;
}

// Copies one blob, checking its digest on the way.
Result<void> copy_blob(const Layout& from, const Layout& to, const Descriptor& descriptor)
{
  auto blob = from.open_blob(descriptor.digest);
  if (!blob) {
    return fail(blob.error());
  }
  auto writer = to.new_blob();
  if (!writer) {
    return fail(writer.error());
  }
  if (auto r = pump(blob->get(), *writer); !r) {
    return fail(fmt::format("read blob {}: {}", descriptor.digest.short_str(), r.error()));
  }
  auto written = writer->commit(descriptor.media_type, descriptor.digest);
  if (!written) {
    return fail(written.error());
  }
  return {};
}

// Calls transfer for every blob reachable from `top` that `to` lacks,
// children before parents.
Result<void> each_missing(const Layout& from, const Layout& to, const Descriptor& top,
                          const std::function<Result<void>(const Descriptor&)>& transfer)
{
  auto all = reachable(from, top);
  if (!all) {
    return fail(all.error());
  }
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    if (to.has_blob(it->digest)) {
      continue;
    }
    if (auto done = transfer(*it); !done) {
      return done;
    }
  }
  return {};
}

} // namespace

Result<std::vector<Descriptor>> link_blobs(const Layout& from, const Layout& to, const Descriptor& top,
                                           const std::set<Digest>& checked)
{
  std::vector<Descriptor> left;
  auto done = each_missing(from, to, top, [&](const Descriptor& blob) -> Result<void> {
    auto linked = link_blob(from, to, blob.digest, checked.contains(blob.digest));
    if (!linked) {
      return fail(linked.error());
    }
    if (*linked) {
      return {};
    }
    if (mediatype::is_layer(blob.media_type)) {
      left.push_back(blob);
      return {};
    }
    return copy_blob(from, to, blob);
  });
  if (!done) {
    return fail(done.error());
  }
  return left;
}

Result<void> copy_blobs(const Layout& from, const Layout& to, const Descriptor& top, BlobTransfer transfer)
{
  if (transfer == BlobTransfer::copy) {
    return each_missing(from, to, top, [&](const Descriptor& blob) { return copy_blob(from, to, blob); });
  }
  auto left = link_blobs(from, to, top);
  if (!left) {
    return fail(left.error());
  }
  for (const auto& layer : *left) {
    if (auto copied = copy_blob(from, to, layer); !copied) {
      return copied;
    }
  }
  return {};
}

} // namespace kiln::oci
