#include "oci/ownership.hpp"

#include <nlohmann/json.hpp>

#include <fmt/core.h>

#include "base/strings.hpp"

namespace kiln::oci {

namespace {

constexpr EntryType k_types[] = {EntryType::regular,     EntryType::directory,    EntryType::symlink,
                                 EntryType::hardlink,    EntryType::char_device,  EntryType::block_device,
                                 EntryType::fifo};

} // namespace

std::string_view entry_type_name(EntryType type)
{
  switch (type) {
  case EntryType::regular: return "file";
  case EntryType::directory: return "dir";
  case EntryType::symlink: return "symlink";
  case EntryType::hardlink: return "hardlink";
  case EntryType::char_device: return "char";
  case EntryType::block_device: return "block";
  case EntryType::fifo: return "fifo";
  }
  return "file";
}

std::string ownership_json(const std::vector<OwnershipRecord>& records)
{
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const auto& r : records) {
    nlohmann::ordered_json e;
    e["path"] = r.path;
    e["type"] = entry_type_name(r.type);
    e["uid"] = r.uid;
    e["gid"] = r.gid;
    e["mode"] = r.mode;
    if (r.type == EntryType::char_device || r.type == EntryType::block_device) {
      e["device"] = {r.dev_major, r.dev_minor};
    }
    if (r.skipped) {
      e["skipped"] = true;
    }
    if (!r.xattrs.empty()) {
      nlohmann::ordered_json x = nlohmann::ordered_json::object();
      for (const auto& [key, value] : r.xattrs) {
        x[key] = base64_encode(value);
      }
      e["xattrs"] = std::move(x);
    }
    entries.push_back(std::move(e));
  }
  nlohmann::ordered_json doc;
  doc["version"] = 1;
  doc["entries"] = std::move(entries);
  return doc.dump() + "\n";
}

Result<std::vector<OwnershipRecord>> parse_ownership_json(std::string_view text)
{
  std::vector<OwnershipRecord> records;
  try {
    auto doc = nlohmann::json::parse(text);
    if (doc.at("version").get<int>() != 1) {
      return fail(fmt::format("ownership record: unsupported version {}", doc.at("version").dump()));
    }
    for (const auto& e : doc.at("entries")) {
      OwnershipRecord r;
      r.path = e.at("path").get<std::string>();
      auto type = e.at("type").get<std::string>();
      bool known = false;
      for (auto t : k_types) {
        if (entry_type_name(t) == type) {
          r.type = t;
          known = true;
        }
      }
      if (!known) {
        return fail(fmt::format("ownership record \"{}\": unknown type \"{}\"", r.path, type));
      }
      r.uid = e.at("uid").get<uint32_t>();
      r.gid = e.at("gid").get<uint32_t>();
      r.mode = e.at("mode").get<uint32_t>();
      if (e.contains("device")) {
        r.dev_major = e["device"].at(0).get<uint32_t>();
        r.dev_minor = e["device"].at(1).get<uint32_t>();
      }
      r.skipped = e.value("skipped", false);
      if (e.contains("xattrs")) {
        for (const auto& [key, value] : e["xattrs"].items()) {
          auto decoded = base64_decode(value.get<std::string>());
          if (!decoded) {
            return fail(fmt::format("ownership record \"{}\": xattr {} is not base64", r.path, key));
          }
          r.xattrs.emplace_back(key, std::move(*decoded));
        }
      }
      records.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("ownership record: {}", e.what()));
  }
  return records;
}

} // namespace kiln::oci
