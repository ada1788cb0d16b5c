#include "scanner/db_import.hpp"

#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "scanner/advisory_db.hpp"

#include <algorithm>
#include <archive.h>
#include <archive_entry.h>
#include <ctime>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace kiln::scanner {

namespace {

using nlohmann::json;

class Importer
{
public:
  explicit Importer(ImportStats& stats) : m_stats(stats) {}

  // One record's JSON text; `where` names the file (and line or member).
  void text(std::string_view where, std::string_view text)
  {
    json value;
    try {
      value = json::parse(text);
    } catch (const json::exception& e) {
      problem(where, "", fmt::format("not JSON ({})", e.what()));
      return;
    }
    if (value.is_array()) {
      for (const auto& item : value) {
        record(where, item);
      }
      return;
    }
    record(where, value);
  }

  void jsonl(std::string_view where, std::string_view text)
  {
    size_t line = 0;
    for (auto piece : split(text, '\n')) {
      ++line;
      if (piece.find_first_not_of(" \t\r") == std::string_view::npos) {
        continue;
      }
      this->text(fmt::format("{}:{}", where, line), piece);
    }
  }

  void record(std::string_view where, const json& value)
  {
    auto adv = parse_osv(value);
    if (!adv) {
      problem(where, "", adv.error());
      return;
    }
    ++m_stats.read;
    if (adv->withdrawn) {
      ++m_stats.withdrawn;
      return;
    }
    for (const auto& a : adv->affected) {
      if (classify_ecosystem(a.ecosystem) == Ecosystem::unsupported) {
        ++m_stats.unsupported[a.ecosystem.empty() ? "(none)" : a.ecosystem];
      }
    }
    if (adv->modified > m_newest) {
      m_newest = adv->modified;
    }
    auto [it, fresh] = m_by_id.emplace(adv->id, m_records.size());
    if (fresh) {
      m_records.push_back(std::move(*adv));
    } else {
      ++m_stats.duplicates;
      m_records[it->second] = std::move(*adv);
    }
  }

  void problem(std::string_view where, std::string_view id, const std::string& why)
  {
    ++m_stats.malformed;
    m_stats.problems.push_back(id.empty() ? fmt::format("{}: {}", where, why)
                                          : fmt::format("{}: {}: {}", where, id, why));
  }

  std::vector<Advisory> take_records()
  {
    m_by_id.clear();
    return std::move(m_records);
  }
  const std::string& newest() const { return m_newest; }

private:
  ImportStats& m_stats;
  std::vector<Advisory> m_records;
  std::unordered_map<std::string, size_t> m_by_id;
  std::string m_newest;
};

bool ends_with(std::string_view s, std::string_view suffix)
{
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<void> read_zip(const std::filesystem::path& path, Importer& importer)
{
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return fail(fmt::format("read {}: {}", path.string(), archive_error_string(a.get())));
  }
  archive_entry* entry = nullptr;
  std::string data;
  for (;;) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return fail(fmt::format("read {}: {}", path.string(), archive_error_string(a.get())));
    }
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    if (archive_entry_filetype(entry) != AE_IFREG ||
        (!ends_with(name, ".json") && !ends_with(name, ".jsonl"))) {
      continue;
    }
    data.clear();
    char buffer[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0) {
      data.append(buffer, static_cast<size_t>(n));
    }
    if (n < 0) {
      return fail(fmt::format("read {}: {}: {}", path.string(), name, archive_error_string(a.get())));
    }
    std::string where = fmt::format("{}:{}", path.string(), name);
    if (ends_with(name, ".jsonl")) {
      importer.jsonl(where, data);
    } else {
      importer.text(where, data);
    }
  }
  return {};
}

Result<void> read_file_source(const std::filesystem::path& path, Importer& importer)
{
  std::string name = path.filename().string();
  if (ends_with(name, ".zip")) {
    return read_zip(path, importer);
  }
  auto data = read_file(path);
  if (!data) {
    return fail(data.error());
  }
  if (ends_with(name, ".jsonl")) {
    importer.jsonl(path.string(), *data);
  } else {
    importer.text(path.string(), *data);
  }
  return {};
}

Result<void> read_source(const std::filesystem::path& source, Importer& importer)
{
  std::error_code ec;
  auto status = std::filesystem::status(source, ec);
  if (ec) {
    return fail(fmt::format("read {}: {}", source.string(), ec.message()));
  }
  if (!std::filesystem::is_directory(status)) {
    return read_file_source(source, importer);
  }
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(source, ec);
       !ec && it != std::filesystem::end(it); it.increment(ec)) {
    auto name = it->path().filename().string();
    if (it->is_regular_file() &&
        (ends_with(name, ".json") || ends_with(name, ".jsonl") || ends_with(name, ".zip"))) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    return fail(fmt::format("read {}: {}", source.string(), ec.message()));
  }
  std::sort(files.begin(), files.end()); // a stable order makes the output reproducible
  for (const auto& file : files) {
    if (auto r = read_file_source(file, importer); !r) {
      return r;
    }
  }
  return {};
}

std::string now_rfc3339()
{
  return rfc3339_utc(static_cast<int64_t>(std::time(nullptr)));
}

} // namespace

Result<ImportStats> import_advisories(const std::vector<std::filesystem::path>& sources,
                                      const std::filesystem::path& output, const ImportOptions& options)
{
  ImportStats stats;
  Importer importer(stats);
  json source_list = json::array();
  for (const auto& source : sources) {
    size_t before = stats.read;
    if (auto r = read_source(source, importer); !r) {
      return fail(r.error());
    }
    source_list.push_back({{"path", source.string()}, {"records", stats.read - before}});
  }
  DbWriter writer;
  auto records = importer.take_records();
  for (auto& adv : records) {
    if (writer.add(adv)) {
      ++stats.stored;
    }
    adv = Advisory{}; // the slim copy is all the writer needs: free as we go
  }
  records = {};
  std::string uri = options.uri;
  if (uri.empty()) {
    for (const auto& source : sources) {
      uri += (uri.empty() ? "file:" : ",") + source.filename().string();
    }
  }
  json meta = {
      {"built", options.built.empty() ? now_rfc3339() : options.built},
      {"uri", uri},
      {"version", options.version.empty() ? importer.newest().substr(0, 10) : options.version},
      {"newest_modified", importer.newest()},
      {"sources", source_list},
      {"withdrawn", stats.withdrawn},
      {"malformed", stats.malformed},
      {"unsupported_ecosystems", stats.unsupported},
  };
  if (auto r = writer.write(output, meta); !r) {
    return fail(r.error());
  }
  return stats;
}

} // namespace kiln::scanner
