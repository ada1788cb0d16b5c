#pragma once

// kiln's compiled advisory database: slim OSV records indexed by
// (ecosystem, normalised package name), memory-mapped by `kiln scan`.
// The byte layout is documented in docs/advisory-db.md:
//
//   header   64 bytes: "KILNVDB\0", u32 format (1), u32 flags (0),
//            u64 file_size, u64 meta_offset, u64 meta_size,
//            u64 index_offset, u64 index_count, u64 postings_offset
//   meta     JSON object: sources, build time, counts
//   records  per record: u32 size, then that many bytes of slim OSV JSON
//   postings u64 record offsets, grouped per index entry
//   keys     the index keys' bytes: ecosystem, NUL, name
//   index    index_count entries sorted by key bytes, 24 bytes each:
//            u64 key_offset, u32 key_size, u32 posting_count, u64 postings_at
//   trailer  "KILNEND\0"
// All integers are little-endian; all offsets count from the file's start.

#include "base/result.hpp"
#include "scanner/osv.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

inline constexpr std::string_view k_db_magic{"KILNVDB\0", 8};
inline constexpr std::string_view k_db_trailer{"KILNEND\0", 8};
inline constexpr uint32_t k_db_format = 1;

// Collects records in memory and writes the file in one go (temp + rename).
class DbWriter
{
public:
  // Returns false when the record affects no ecosystem kiln can match.
  bool add(const Advisory& advisory);
  size_t size() const { return m_records.size(); }
  // meta is stored as given; the writer adds "format" and "records".
  Result<void> write(const std::filesystem::path& path, nlohmann::json meta) const;

private:
  std::vector<std::string> m_records;                   // slim JSON
  std::vector<std::pair<std::string, uint32_t>> m_keys; // (key, record number)
};

class AdvisoryDb
{
public:
  // Maps the file and checks its header, bounds and trailer; a truncated or
  // foreign file is an error that says which.
  static Result<AdvisoryDb> open(const std::filesystem::path& path);

  AdvisoryDb(AdvisoryDb&&) noexcept = default;
  AdvisoryDb& operator=(AdvisoryDb&&) noexcept = default;
  ~AdvisoryDb();

  const nlohmann::json& meta() const { return m_meta; }
  const std::filesystem::path& path() const { return m_path; }
  size_t key_count() const { return m_index_count; }

  // The records indexed under (ecosystem, name); name already normalised.
  Result<std::vector<Advisory>> lookup(std::string_view ecosystem, std::string_view name) const;

private:
  AdvisoryDb() = default;
  struct Unmap
  {
    size_t size;
    void operator()(const char* p) const;
  };
  std::unique_ptr<const char, Unmap> m_map{nullptr, Unmap{0}};
  size_t m_size = 0;
  uint64_t m_index_offset = 0;
  uint64_t m_index_count = 0;
  nlohmann::json m_meta;
  std::filesystem::path m_path;
};

// The index key of an ecosystem and a normalised name.
std::string db_key(std::string_view ecosystem, std::string_view name);

} // namespace kiln::scanner
