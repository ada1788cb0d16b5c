#include "scanner/advisory_db.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln::scanner {

namespace {

constexpr size_t k_header_size = 64;
constexpr size_t k_index_entry_size = 24;

void put32(std::string& out, uint32_t v)
{
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void put64(std::string& out, uint64_t v)
{
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void set64(std::string& out, size_t at, uint64_t v)
{
  for (int i = 0; i < 8; ++i) {
    out[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}

uint32_t get32(const char* p)
{
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

uint64_t get64(const char* p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

} // namespace

std::string db_key(std::string_view ecosystem, std::string_view name)
{
  std::string key(ecosystem);
  key.push_back('\0');
  key.append(name);
  return key;
}

bool DbWriter::add(const Advisory& advisory)
{
  std::vector<std::string> keys;
  for (const auto& a : advisory.affected) {
    Ecosystem kind = classify_ecosystem(a.ecosystem);
    if (kind == Ecosystem::unsupported || a.name.empty()) {
      continue;
    }
    auto key = db_key(a.ecosystem, normalise_name(kind, a.name));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(std::move(key));
    }
  }
  if (keys.empty()) {
    return false;
  }
  auto number = static_cast<uint32_t>(m_records.size());
  m_records.push_back(to_slim_json(advisory).dump());
  for (auto& key : keys) {
    m_keys.emplace_back(std::move(key), number);
  }
  return true;
}

Result<void> DbWriter::write(const std::filesystem::path& path, nlohmann::json meta) const
{
  meta["format"] = k_db_format;
  meta["records"] = m_records.size();
  auto keys = m_keys;
  std::sort(keys.begin(), keys.end());

  std::string out;
  out.append(k_db_magic);
  put32(out, k_db_format);
  put32(out, 0);
  out.resize(k_header_size, '\0'); // offsets are filled in below

  std::string meta_text = meta.dump();
  uint64_t meta_offset = out.size();
  out.append(meta_text);

  // Records go in key order, so the records a lookup reads sit together and
  // a scan touches few pages of a large DB.
  std::vector<uint64_t> record_at(m_records.size(), UINT64_MAX);
  for (const auto& [key, number] : keys) {
    if (record_at[number] != UINT64_MAX) {
      continue;
    }
    record_at[number] = out.size();
    put32(out, static_cast<uint32_t>(m_records[number].size()));
    out.append(m_records[number]);
  }

  struct Entry
  {
    size_t first;
    size_t count;
    uint64_t postings_at;
    uint64_t key_at;
  };
  std::vector<Entry> entries;
  uint64_t postings_offset = out.size();
  for (size_t i = 0; i < keys.size(); ++i) {
    if (entries.empty() || keys[entries.back().first].first != keys[i].first) {
      entries.push_back({i, 0, out.size(), 0});
    }
    ++entries.back().count;
    put64(out, record_at[keys[i].second]);
  }
  for (auto& e : entries) {
    e.key_at = out.size();
    out.append(keys[e.first].first);
  }
  uint64_t index_offset = out.size();
  for (const auto& e : entries) {
    put64(out, e.key_at);
    put32(out, static_cast<uint32_t>(keys[e.first].first.size()));
    put32(out, static_cast<uint32_t>(e.count));
    put64(out, e.postings_at);
  }
  out.append(k_db_trailer);

  set64(out, 16, out.size());
  set64(out, 24, meta_offset);
  set64(out, 32, meta_text.size());
  set64(out, 40, index_offset);
  set64(out, 48, entries.size());
  set64(out, 56, postings_offset);
  if (auto r = write_file_atomic(path, out, Durable::yes); !r) {
    return fail(fmt::format("write advisory DB {}: {}", path.string(), r.error()));
  }
  return {};
}

void AdvisoryDb::Unmap::operator()(const char* p) const
{
  if (p) {
    munmap(const_cast<char*>(p), size);
  }
}

AdvisoryDb::~AdvisoryDb() = default;

Result<AdvisoryDb> AdvisoryDb::open(const std::filesystem::path& path)
{
  auto bad = [&](const std::string& why) {
    return fail(fmt::format("open advisory DB {}: {}", path.string(), why));
  };
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return bad(errno_text(errno));
  }
  struct stat st
  {
  };
  if (fstat(fd.get(), &st) != 0) {
    return bad(errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return bad("not a regular file");
  }
  auto size = static_cast<size_t>(st.st_size);
  if (size < k_header_size) {
    return bad(size < k_db_magic.size() ? "file is truncated or empty"
                                        : "file is truncated (no complete header)");
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (p == MAP_FAILED) {
    return bad(fmt::format("mmap: {}", errno_text(errno)));
  }
  // Lookups jump around the file: read-ahead would only inflate RSS.
  madvise(p, size, MADV_RANDOM);
  AdvisoryDb db;
  db.m_map = std::unique_ptr<const char, Unmap>(static_cast<const char*>(p), Unmap{size});
  db.m_size = size;
  db.m_path = path;
  const char* base = db.m_map.get();
  if (std::string_view(base, 8) != k_db_magic) {
    return bad("not a kiln advisory DB (bad magic; build one with `kiln db import`)");
  }
  uint32_t format = get32(base + 8);
  if (format != k_db_format) {
    return bad(fmt::format("format {} is not supported (this kiln reads format {})", format, k_db_format));
  }
  uint64_t declared = get64(base + 16);
  if (declared != size) {
    return bad(
        fmt::format("file is truncated or damaged: header says {} bytes, file has {}", declared, size));
  }
  if (std::string_view(base + size - 8, 8) != k_db_trailer) {
    return bad("file is damaged: trailer missing");
  }
  uint64_t meta_offset = get64(base + 24);
  uint64_t meta_size = get64(base + 32);
  db.m_index_offset = get64(base + 40);
  db.m_index_count = get64(base + 48);
  uint64_t limit = size - 8;
  if (meta_offset > limit || meta_size > limit - meta_offset || db.m_index_offset > limit ||
      db.m_index_count > (limit - db.m_index_offset) / k_index_entry_size) {
    return bad("file is damaged: section offsets point outside the file");
  }
  try {
    db.m_meta = nlohmann::json::parse(std::string_view(base + meta_offset, meta_size));
  } catch (const nlohmann::json::exception& e) {
    return bad(fmt::format("metadata is not JSON: {}", e.what()));
  }
  return db;
}

Result<std::vector<Advisory>> AdvisoryDb::lookup(std::string_view ecosystem, std::string_view name) const
{
  const char* base = m_map.get();
  auto damaged = [&](const char* what) {
    return fail(fmt::format("read advisory DB {}: file is damaged: {}", m_path.string(), what));
  };
  const std::string key = db_key(ecosystem, name);
  auto key_of = [&](uint64_t i) -> std::optional<std::string_view> {
    const char* entry = base + m_index_offset + i * k_index_entry_size;
    uint64_t at = get64(entry);
    uint32_t size = get32(entry + 8);
    if (at > m_size || size > m_size - at) {
      return std::nullopt;
    }
    return std::string_view(base + at, size);
  };
  uint64_t lo = 0;
  uint64_t hi = m_index_count;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    auto k = key_of(mid);
    if (!k) {
      return damaged("index key out of bounds");
    }
    if (*k < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  std::vector<Advisory> out;
  if (lo == m_index_count || key_of(lo) != std::optional<std::string_view>(key)) {
    return out;
  }
  const char* entry = base + m_index_offset + lo * k_index_entry_size;
  uint32_t count = get32(entry + 12);
  uint64_t postings = get64(entry + 16);
  if (postings > m_size || count > (m_size - postings) / 8) {
    return damaged("postings out of bounds");
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t at = get64(base + postings + 8 * i);
    if (at > m_size - 4 || get32(base + at) > m_size - at - 4) {
      return damaged("record out of bounds");
    }
    std::string_view text(base + at + 4, get32(base + at));
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      return damaged("a record is not JSON");
    }
    auto adv = parse_osv(record);
    if (!adv) {
      return fail(fmt::format("read advisory DB {}: {}", m_path.string(), adv.error()));
    }
    out.push_back(std::move(*adv));
  }
  return out;
}

} // namespace kiln::scanner
