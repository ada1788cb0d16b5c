#include "oci/layout.hpp"

#include <cerrno>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "oci/mediatype.hpp"

namespace fs = std::filesystem;

namespace kiln::oci {

namespace {

constexpr std::string_view k_layout_file = "oci-layout";
constexpr std::string_view k_layout_content = R"({"imageLayoutVersion":"1.0.0"})";

std::string relative_blob(const Digest& digest)
{
  return fmt::format("blobs/{}/{}", digest.algorithm_name(), digest.hex());
}

} // namespace

Result<uint64_t> pump(int fd, Sink& sink)
{
  std::vector<char> buffer(1 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(errno_text(errno));
    }
    if (n == 0) {
      return total;
    }
    if (auto r = sink.write(buffer.data(), static_cast<size_t>(n)); !r) {
      return fail(r.error());
    }
    total += static_cast<uint64_t>(n);
  }
}

Result<std::string> read_verified(int fd, const Digest& digest, std::optional<int64_t> size, std::string_view what)
{
  Hasher hasher(digest.algorithm());
  std::string data;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(fmt::format("read \"{}\": {}", what, errno_text(errno)));
    }
    if (n == 0) {
      break;
    }
    if (size && static_cast<int64_t>(data.size()) + n > *size) {
      return fail(fmt::format("read \"{}\": size mismatch (expected {} bytes, got more)", what, *size));
    }
    hasher.update(buffer, static_cast<size_t>(n));
    data.append(buffer, static_cast<size_t>(n));
  }
  if (size && static_cast<int64_t>(data.size()) != *size) {
    return fail(fmt::format("read \"{}\": size mismatch (expected {} bytes, got {})", what, *size, data.size()));
  }
  Digest actual = hasher.finish();
  if (actual != digest) {
    return fail(fmt::format("read \"{}\": digest mismatch (expected {}, got {})", what, digest.str(), actual.str()));
  }
  return data;
}

BlobWriter::BlobWriter(fs::path blobs_dir, fs::path temp, Fd fd)
  : m_blobs_dir(std::move(blobs_dir)), m_temp(std::move(temp)), m_fd(std::move(fd))
{
}

BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter& BlobWriter::operator=(BlobWriter&&) noexcept = default;

BlobWriter::~BlobWriter()
{
  discard();
}

void BlobWriter::discard()
{
  if (!m_temp.empty()) {
    ::unlink(m_temp.c_str());
    m_temp.clear();
  }
}

Result<void> BlobWriter::write(const void* data, size_t size)
{
  m_hasher.update(data, size);
  if (auto r = write_all(m_fd.get(), data, size); !r) {
    return fail(fmt::format("write \"{}\": {}", m_temp.string(), r.error()));
  }
  return {};
}

Result<Descriptor> BlobWriter::commit(std::string_view media_type, const std::optional<Digest>& expected)
{
  if (m_temp.empty()) {
    return fail("commit blob: already committed or discarded");
  }
  Descriptor descriptor;
  descriptor.media_type = media_type;
  descriptor.size = static_cast<int64_t>(m_hasher.bytes());
  descriptor.digest = m_hasher.finish();
  if (expected && *expected != descriptor.digest) {
    discard();
    return fail(fmt::format("write blob {}: digest mismatch (expected {}, got {})", expected->short_str(),
                            expected->str(), descriptor.digest.str()));
  }
  if (::fsync(m_fd.get()) != 0) {
    return fail(fmt::format("fsync \"{}\": {}", m_temp.string(), errno_text(errno)));
  }
  m_fd.reset();
  fs::path target = m_blobs_dir / descriptor.digest.hex();
  // Blobs are immutable: if another writer got there first its bytes are
  // the same bytes, and rename() replacing them is harmless.
  if (::rename(m_temp.c_str(), target.c_str()) != 0) {
    int err = errno;
    discard();
    return fail(fmt::format("rename blob into \"{}\": {}", target.string(), errno_text(err)));
  }
  m_temp.clear();
  if (auto r = fsync_dir(m_blobs_dir); !r) {
    return fail(r.error());
  }
  return descriptor;
}

Result<Layout> Layout::open(const fs::path& dir)
{
  auto marker = read_file(dir / k_layout_file);
  if (!marker) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return fail(fmt::format("open layout \"{}\": no such directory", dir.string()));
    }
    return fail(fmt::format("open layout \"{}\": not an OCI image layout (no oci-layout file)", dir.string()));
  }
  auto json = parse_json(*marker, fmt::format("\"{}/oci-layout\"", dir.string()));
  if (!json) {
    return fail(json.error());
  }
  if (!json->is_object() || !(*json)["imageLayoutVersion"].is_string()) {
    return fail(fmt::format("open layout \"{}\": oci-layout has no imageLayoutVersion", dir.string()));
  }
  std::string version = (*json)["imageLayoutVersion"].get<std::string>();
  if (!version.starts_with("1.")) {
    return fail(fmt::format("open layout \"{}\": unsupported imageLayoutVersion \"{}\"", dir.string(), version));
  }
  return Layout(dir);
}

Result<Layout> Layout::create(const fs::path& dir)
{
  std::error_code ec;
  if (fs::exists(dir / k_layout_file, ec)) {
    return open(dir);
  }
  fs::create_directories(dir / "blobs" / "sha256", ec);
  if (ec) {
    return fail(fmt::format("create layout \"{}\": {}", dir.string(), ec.message()));
  }
  Layout layout(dir);
  // index.json first, oci-layout last: a directory with an oci-layout file
  // is always a complete layout.
  if (!fs::exists(dir / "index.json")) {
    ImageIndex empty;
    empty.media_type = mediatype::k_oci_index;
    if (auto r = write_file_atomic(dir / "index.json", empty.serialize()); !r) {
      return fail(r.error());
    }
  }
  if (auto r = write_file_atomic(dir / k_layout_file, k_layout_content); !r) {
    return fail(r.error());
  }
  return layout;
}

fs::path Layout::blob_path(const Digest& digest) const
{
  return m_dir / relative_blob(digest);
}

bool Layout::has_blob(const Digest& digest) const
{
  struct stat st;
  return ::stat(blob_path(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<Fd> Layout::open_blob(const Digest& digest) const
{
  fs::path path = blob_path(digest);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) {
      return fail(fmt::format("open blob \"{}\" in \"{}\": blob is missing", digest.str(), m_dir.string()));
    }
    return fail(fmt::format("open blob \"{}\": {}", path.string(), errno_text(err)));
  }
  return fd;
}

Result<std::string> Layout::read_blob(const Digest& digest, std::optional<int64_t> size) const
{
  auto fd = open_blob(digest);
  if (!fd) {
    return fail(fd.error());
  }
  return read_verified(fd->get(), digest, size, relative_blob(digest));
}

Result<BlobWriter> Layout::new_blob() const
{
  fs::path blobs = m_dir / "blobs" / "sha256";
  std::error_code ec;
  fs::create_directories(blobs, ec);
  fs::path temp = blobs / fmt::format(".tmp-{}", unique_suffix());
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    return fail(fmt::format("create blob in \"{}\": {}", blobs.string(), errno_text(errno)));
  }
  return BlobWriter(blobs, temp, std::move(fd));
}

Result<Descriptor> Layout::write_blob(std::string_view data, std::string_view media_type) const
{
  Digest digest = Digest::of(data);
  if (has_blob(digest)) {
    Descriptor d;
    d.media_type = media_type;
    d.digest = digest;
    d.size = static_cast<int64_t>(data.size());
    return d;
  }
  auto writer = new_blob();
  if (!writer) {
    return fail(writer.error());
  }
  if (auto r = writer->write(data.data(), data.size()); !r) {
    return fail(r.error());
  }
  return writer->commit(media_type);
}

Result<Descriptor> Layout::write_blob_from_file(const fs::path& file, std::string_view media_type) const
{
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("open \"{}\": {}", file.string(), errno_text(errno)));
  }
  auto writer = new_blob();
  if (!writer) {
    return fail(writer.error());
  }
  if (auto r = pump(fd.get(), *writer); !r) {
    return fail(fmt::format("read \"{}\": {}", file.string(), r.error()));
  }
  return writer->commit(media_type);
}

Result<ImageIndex> Layout::read_index() const
{
  auto bytes = read_file(m_dir / "index.json");
  if (!bytes) {
    return fail(fmt::format("read index of \"{}\": {}", m_dir.string(), bytes.error()));
  }
  auto index = ImageIndex::parse(*bytes);
  if (!index) {
    return fail(fmt::format("\"{}/index.json\": {}", m_dir.string(), index.error()));
  }
  return index;
}

Result<Descriptor> Layout::resolve(std::string_view tag) const
{
  auto index = read_index();
  if (!index) {
    return fail(index.error());
  }
  if (tag.empty()) {
    if (index->manifests.size() != 1) {
      return fail(fmt::format("resolve image in \"{}\": no tag given and the layout holds {} images",
                              m_dir.string(), index->manifests.size()));
    }
    return index->manifests.front();
  }
  for (const auto& entry : index->manifests) {
    auto it = entry.annotations.find(std::string(k_annotation_ref_name));
    if (it != entry.annotations.end() && it->second == tag) {
      return entry;
    }
  }
  return fail(fmt::format("resolve \"{}\" in \"{}\": no such tag", tag, m_dir.string()));
}

Result<void> Layout::update_index(const std::function<Result<void>(ImageIndex&)>& edit) const
{
  auto lock = FileLock::acquire(m_dir / "index.json.lock");
  if (!lock) {
    return fail(lock.error());
  }
  auto index = read_index();
  if (!index) {
    return fail(index.error());
  }
  if (auto r = edit(*index); !r) {
    return r;
  }
  if (index->media_type.empty()) {
    index->media_type = mediatype::k_oci_index;
  }
  return write_file_atomic(m_dir / "index.json", index->serialize());
}

Result<void> Layout::set_tag(std::string_view tag, Descriptor manifest) const
{
  return update_index([&](ImageIndex& index) -> Result<void> {
    std::erase_if(index.manifests, [&](const Descriptor& entry) {
      auto it = entry.annotations.find(std::string(k_annotation_ref_name));
      return it != entry.annotations.end() && it->second == tag;
    });
    manifest.annotations[std::string(k_annotation_ref_name)] = std::string(tag);
    index.manifests.push_back(std::move(manifest));
    return {};
  });
}

} // namespace kiln::oci
