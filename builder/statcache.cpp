#include "builder/statcache.hpp"

#include <cerrno>
#include <ctime>

#include <sys/stat.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "oci/json.hpp"

namespace fs = std::filesystem;

namespace kiln::builder {

namespace {

constexpr int k_format_version = 1;
// A file still changing after this many reads is reported, not chased.
constexpr int k_read_attempts = 3;

int64_t now_ns()
{
  struct timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Result<FileStat> stat_fd(int fd)
{
  struct stat st{};
  if (::fstat(fd, &st) != 0) {
    return fail(fmt::format("stat: {}", errno_text(errno)));
  }
  return file_stat(st);
}

} // namespace

FileStat file_stat(const struct ::stat& st)
{
  FileStat out;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  out.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  out.inode = st.st_ino;
  out.device = st.st_dev;
  return out;
}

StatCache StatCache::load(const fs::path& cache_dir, const fs::path& context)
{
  StatCache cache;
  std::error_code ec;
  fs::path absolute = fs::weakly_canonical(context, ec);
  std::string name = oci::Digest::of(ec ? context.string() : absolute.string()).hex().substr(0, 32);
  cache.m_file = cache_dir / "context" / (name + ".json");
  cache.m_context = ec ? context : absolute;
  auto text = read_file(cache.m_file);
  if (!text) {
    return cache;
  }
  auto json = oci::parse_json(*text, "stat cache");
  if (!json || !json->is_object() || json->value("version", 0) != k_format_version || !json->contains("files") ||
      !(*json)["files"].is_object()) {
    return cache; // unreadable or from another kiln: start afresh
  }
  for (const auto& [path, value] : (*json)["files"].items()) {
    if (!value.is_array() || value.size() != 7 || !value[6].is_string()) {
      continue;
    }
    auto digest = oci::Digest::parse(value[6].get<std::string>());
    if (!digest) {
      continue;
    }
    Record record;
    record.stat.size = value[0].get<uint64_t>();
    record.stat.mtime_ns = value[1].get<int64_t>();
    record.stat.ctime_ns = value[2].get<int64_t>();
    record.stat.inode = value[3].get<uint64_t>();
    record.stat.device = value[4].get<uint64_t>();
    record.hashed_at_ns = value[5].get<int64_t>();
    record.digest = *digest;
    cache.m_records.emplace(path, std::move(record));
  }
  return cache;
}

Result<oci::Digest> StatCache::digest(const std::string& path, int fd)
{
  ++m_seen;
  auto before = stat_fd(fd);
  if (!before) {
    return fail(before.error());
  }
  if (!path.empty()) {
    auto found = m_records.find(path);
    if (found != m_records.end() && found->second.stat == *before &&
        found->second.stat.ctime_ns + k_racy_ns <= found->second.hashed_at_ns) {
      found->second.used = true;
      return found->second.digest;
    }
  }
  for (int attempt = 0; attempt < k_read_attempts; ++attempt) {
    int64_t started = now_ns();
    ++m_hashed;
    auto digest = oci::digest_of_fd(fd, oci::Algorithm::sha256, &m_bytes);
    if (!digest) {
      return fail(digest.error());
    }
    if (m_read_hook) {
      m_read_hook();
    }
    auto after = stat_fd(fd);
    if (!after) {
      return fail(after.error());
    }
    if (*after == *before) {
      if (!path.empty()) {
        m_records[path] = Record{*after, started, *digest, true};
        m_dirty = true;
      }
      return *digest;
    }
    before = after; // changed while it was read: read it again
  }
  return fail(fmt::format("kept changing while it was read ({} attempts)", k_read_attempts));
}

Result<void> StatCache::save() const
{
  if (!m_dirty || m_file.empty()) {
    return {};
  }
  oci::Json files = oci::Json::object();
  for (const auto& [path, record] : m_records) {
    // A record this build did not use stays while its file is there: the
    // next build may copy other parts of the context.
    struct stat st{};
    if (!record.used && (::lstat((m_context / path).c_str(), &st) != 0 || !S_ISREG(st.st_mode))) {
      continue;
    }
    files[path] = oci::Json::array({record.stat.size, record.stat.mtime_ns, record.stat.ctime_ns, record.stat.inode,
                                    record.stat.device, record.hashed_at_ns, record.digest.str()});
  }
  std::error_code ec;
  fs::create_directories(m_file.parent_path(), ec);
  oci::Json document{{"version", k_format_version}, {"files", std::move(files)}};
  return write_file_atomic(m_file, document.dump(), Durable::no);
}

} // namespace kiln::builder
