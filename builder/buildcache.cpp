#include "builder/buildcache.hpp"

#include <algorithm>
#include <ctime>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"

namespace fs = std::filesystem;

namespace kiln::builder {

namespace {

// Bumped whenever what a key covers or what an entry means changes: an
// older kiln's entries then simply never match.
constexpr std::string_view k_key_version = "kiln-build-cache-1";
constexpr int k_entry_version = 1;

oci::Json pairs_json(const std::vector<std::pair<std::string, std::string>>& pairs)
{
  oci::Json out = oci::Json::array();
  for (const auto& [key, value] : pairs) {
    out.push_back(oci::Json::array({key, value}));
  }
  return out;
}

std::string plural(size_t n, std::string_view word)
{
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

std::string name_list(const std::vector<std::string>& names)
{
  std::string out;
  for (size_t i = 0; i < names.size() && i < 3; ++i) {
    out += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > 3) {
    out += ", ...";
  }
  return out;
}

// The name=value pairs of a list, for comparing ARGs and ENV by name.
std::map<std::string, std::string> as_map(const std::vector<std::pair<std::string, std::string>>& pairs)
{
  return {pairs.begin(), pairs.end()};
}

std::map<std::string, std::string> env_map(const std::vector<std::string>& env)
{
  std::map<std::string, std::string> out;
  for (const auto& entry : env) {
    size_t eq = entry.find('=');
    out[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
  }
  return out;
}

// The first name whose value differs between two maps (added and removed
// names count), in name order.
std::optional<std::string> first_difference(const std::map<std::string, std::string>& a,
                                            const std::map<std::string, std::string>& b)
{
  std::optional<std::string> first;
  auto consider = [&](const std::string& name) {
    if (!first || name < *first) {
      first = name;
    }
  };
  for (const auto& [name, value] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second != value) {
      consider(name);
    }
  }
  for (const auto& [name, value] : b) {
    if (!a.contains(name)) {
      consider(name);
    }
  }
  return first;
}

// An entry file; nullopt when it is missing, unreadable or from another
// kiln (a cache never fails a build for that).
std::optional<CacheEntry> load_entry(const fs::path& file)
{
  auto text = read_file(file);
  auto json = text ? oci::parse_json(*text, "cache entry") : Result<oci::Json>(fail(""));
  auto entry = json ? CacheEntry::from_json(*json) : Result<CacheEntry>(fail(""));
  return entry ? std::optional(std::move(*entry)) : std::nullopt;
}

int64_t mtime_ns_of(const fs::path& path)
{
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0
           ? static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec
           : 0;
}

} // namespace

oci::Json StepInputs::to_json() const
{
  oci::Json json{{"parent", parent}, {"kind", kind}, {"instruction", instruction}, {"platform", platform},
                 {"layer", layer}};
  if (!args.empty()) {
    json["args"] = pairs_json(args);
  }
  if (!env.empty()) {
    json["env"] = env;
  }
  if (!id_map.empty()) {
    json["id_map"] = id_map;
  }
  if (!from.empty()) {
    json["from"] = from;
  }
  if (!files.empty()) {
    json["files"] = files;
  }
  return json;
}

StepInputs StepInputs::from_json(const oci::Json& json)
{
  StepInputs inputs;
  inputs.parent = json.value("parent", "");
  inputs.kind = json.value("kind", "");
  inputs.instruction = json.value("instruction", oci::Json());
  inputs.platform = json.value("platform", "");
  inputs.layer = json.value("layer", "");
  for (const auto& pair : json.value("args", oci::Json::array())) {
    if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
      inputs.args.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  inputs.env = json.value("env", std::vector<std::string>{});
  inputs.id_map = json.value("id_map", "");
  inputs.from = json.value("from", std::vector<std::string>{});
  inputs.files = json.value("files", "");
  inputs.location = json.value("location", "");
  inputs.summary = json.value("summary", "");
  return inputs;
}

oci::Digest StepInputs::key() const
{
  return oci::Digest::of(fmt::format("{}\n{}", k_key_version, oci::dump_json(to_json())));
}

oci::Digest SourceManifest::digest() const
{
  return oci::Digest::of(text());
}

std::string SourceManifest::text() const
{
  std::string out;
  for (const auto& [path, digest] : files) {
    out += digest;
    out += ' ';
    out += path;
    out += '\n';
  }
  return out;
}

SourceManifest SourceManifest::parse(std::string_view text)
{
  SourceManifest manifest;
  for (auto line : split(text, '\n')) {
    size_t space = line.find(' ');
    if (space == std::string_view::npos) {
      continue;
    }
    manifest.files.emplace_back(std::string(line.substr(space + 1)), std::string(line.substr(0, space)));
  }
  return manifest;
}

oci::Json CacheEntry::to_json() const
{
  oci::Json inputs_json = inputs.to_json();
  inputs_json["location"] = inputs.location;
  inputs_json["summary"] = inputs.summary;
  oci::Json json{{"version", k_entry_version}, {"key", key.str()}, {"inputs", std::move(inputs_json)},
                 {"created", created}};
  if (layer) {
    json["layer"] = layer->to_json();
  }
  if (diff_id) {
    json["diff_id"] = diff_id->str();
  }
  oci::Json blob_list = oci::Json::array();
  for (const auto& blob : blobs) {
    blob_list.push_back(blob.str());
  }
  json["blobs"] = std::move(blob_list);
  json["dirs"] = dirs;
  return json;
}

Result<CacheEntry> CacheEntry::from_json(const oci::Json& json)
{
  try {
    if (!json.is_object() || json.value("version", 0) != k_entry_version) {
      return fail("not a cache entry of this kiln version");
    }
    CacheEntry entry;
    auto key = oci::Digest::parse(json.at("key").get<std::string>());
    if (!key) {
      return fail(key.error());
    }
    entry.key = *key;
    entry.inputs = StepInputs::from_json(json.at("inputs"));
    entry.created = json.value("created", "");
    if (json.contains("layer")) {
      entry.layer = oci::Descriptor::from_json(json.at("layer"), "layer");
      auto diff_id = oci::Digest::parse(json.at("diff_id").get<std::string>());
      if (!diff_id) {
        return fail(diff_id.error());
      }
      entry.diff_id = *diff_id;
    }
    for (const auto& blob : json.value("blobs", std::vector<std::string>{})) {
      auto digest = oci::Digest::parse(blob);
      if (!digest) {
        return fail(digest.error());
      }
      entry.blobs.push_back(*digest);
    }
    entry.dirs = json.value("dirs", std::vector<std::string>{});
    return entry;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

std::string describe_changes(const SourceManifest& before, const SourceManifest& after)
{
  std::map<std::string, std::string> old_files(before.files.begin(), before.files.end());
  std::map<std::string, std::string> new_files(after.files.begin(), after.files.end());
  std::vector<std::string> changed;
  std::vector<std::string> added;
  std::vector<std::string> removed;
  for (const auto& [path, digest] : new_files) {
    auto it = old_files.find(path);
    if (it == old_files.end()) {
      added.push_back(path);
    } else if (it->second != digest) {
      changed.push_back(path);
    }
  }
  for (const auto& [path, digest] : old_files) {
    if (!new_files.contains(path)) {
      removed.push_back(path);
    }
  }
  std::vector<std::string> parts;
  if (!changed.empty()) {
    parts.push_back(fmt::format("{} changed: {}", plural(changed.size(), "file"), name_list(changed)));
  }
  if (!added.empty()) {
    parts.push_back(fmt::format("{} added: {}", plural(added.size(), "file"), name_list(added)));
  }
  if (!removed.empty()) {
    parts.push_back(fmt::format("{} removed: {}", plural(removed.size(), "file"), name_list(removed)));
  }
  std::string out;
  for (const auto& part : parts) {
    out += (out.empty() ? "" : "; ") + part;
  }
  return out.empty() ? "sources changed" : out;
}

std::string describe_difference(const StepInputs& before, const StepInputs& after, const SourceManifest* before_files,
                                const SourceManifest* after_files)
{
  if (before.kind == "FROM" && after.kind == "FROM" && before.instruction != after.instruction) {
    return fmt::format("base changed: was {}, now {}", before.instruction.value("manifest", "?"),
                       after.instruction.value("manifest", "?"));
  }
  if (before.kind != after.kind || before.instruction != after.instruction) {
    return fmt::format("instruction changed (was: {})", before.summary.empty() ? before.kind : before.summary);
  }
  if (before.layer != after.layer) {
    return fmt::format("layer options changed (was {}, now {})", before.layer, after.layer);
  }
  if (before.platform != after.platform) {
    return fmt::format("platform changed (was {})", before.platform);
  }
  if (before.id_map != after.id_map) {
    return fmt::format("id map changed (was {}, now {})", before.id_map, after.id_map);
  }
  if (auto name = first_difference(as_map(before.args), as_map(after.args))) {
    return fmt::format("ARG {} changed", *name);
  }
  if (auto name = first_difference(env_map(before.env), env_map(after.env))) {
    return fmt::format("ENV {} changed", *name);
  }
  if (before.from != after.from) {
    return "the stage or image it reads from changed";
  }
  if (before.files != after.files) {
    return before_files != nullptr && after_files != nullptr ? describe_changes(*before_files, *after_files)
                                                             : "sources changed";
  }
  return "the cache entry is from an older kiln";
}

Result<BuildCache> BuildCache::open(const fs::path& dir, CacheUse use)
{
  std::error_code ec;
  for (const char* sub : {"steps", "children"}) {
    fs::create_directories(dir / sub, ec);
    if (ec) {
      return fail(fmt::format("build cache: create \"{}\": {}", (dir / sub).string(), ec.message()));
    }
  }
  auto lock = FileLock::acquire(dir / "lock", use == CacheUse::shared ? LockMode::shared : LockMode::exclusive);
  if (!lock) {
    return fail(fmt::format("build cache: {}", lock.error()));
  }
  auto blobs = oci::Layout::create(dir / "blobs");
  if (!blobs) {
    return fail(fmt::format("build cache: {}", blobs.error()));
  }
  return BuildCache(dir, std::move(*blobs), std::move(*lock));
}

fs::path BuildCache::entry_path(const oci::Digest& key, std::string_view suffix) const
{
  return m_dir / "steps" / fmt::format("{}{}", key.hex(), suffix);
}

std::optional<CacheEntry> BuildCache::find(const oci::Digest& key) const
{
  fs::path file = entry_path(key, ".json");
  auto entry = load_entry(file);
  if (!entry || entry->key != key) {
    return std::nullopt;
  }
  for (const auto& blob : entry->blobs) {
    if (!m_blobs.has_blob(blob)) {
      return std::nullopt; // pruned from under the entry: build the step again
    }
  }
  ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0); // last use, for prune
  return std::move(*entry);
}

Result<void> BuildCache::store(const CacheEntry& entry, const SourceManifest* manifest) const
{
  if (manifest != nullptr) {
    if (auto r = write_file_atomic(entry_path(entry.key, ".files"), manifest->text(), Durable::no); !r) {
      return r;
    }
  }
  if (auto r = write_file_atomic(entry_path(entry.key, ".json"), entry.to_json().dump(1), Durable::no); !r) {
    return r;
  }
  fs::path children = m_dir / "children" / entry.inputs.parent;
  std::error_code ec;
  fs::create_directories(children, ec);
  return write_file_atomic(children / entry.key.hex(), "", Durable::no);
}

std::string BuildCache::explain_miss(const StepInputs& inputs, const SourceManifest* manifest) const
{
  std::error_code ec;
  std::optional<CacheEntry> best;
  std::pair<bool, int64_t> best_rank{false, -1};
  for (const auto& child : fs::directory_iterator(m_dir / "children" / inputs.parent, ec)) {
    auto key = oci::Digest::parse("sha256:" + child.path().filename().string());
    if (!key) {
      continue;
    }
    fs::path file = entry_path(*key, ".json");
    auto entry = load_entry(file);
    if (!entry) {
      continue;
    }
    // Only the same kind of instruction compares; among those, prefer the
    // same line of the same file, then the most recently used.
    if (entry->inputs.kind != inputs.kind) {
      continue;
    }
    std::pair rank{entry->inputs.location == inputs.location, mtime_ns_of(file)};
    if (rank > best_rank) {
      best_rank = rank;
      best = std::move(*entry);
    }
  }
  if (!best) {
    return "";
  }
  std::optional<SourceManifest> before_files;
  if (auto text = read_file(entry_path(best->key, ".files"))) {
    before_files = SourceManifest::parse(*text);
  }
  return describe_difference(best->inputs, inputs, before_files ? &*before_files : nullptr, manifest);
}

std::optional<std::string> BuildCache::find_alias(const oci::Digest& alias) const
{
  auto text = read_file(m_dir / "aliases" / alias.hex());
  if (!text || !oci::Digest::parse(*text)) {
    return std::nullopt;
  }
  return *text;
}

Result<void> BuildCache::store_alias(const oci::Digest& alias, const std::string& value) const
{
  std::error_code ec;
  fs::create_directories(m_dir / "aliases", ec);
  return write_file_atomic(m_dir / "aliases" / alias.hex(), value, Durable::no);
}

std::vector<std::pair<CacheEntry, int64_t>> BuildCache::entries() const
{
  std::vector<std::pair<CacheEntry, int64_t>> out;
  std::error_code ec;
  for (const auto& file : fs::directory_iterator(m_dir / "steps", ec)) {
    if (file.path().extension() != ".json") {
      continue;
    }
    auto entry = load_entry(file.path());
    if (entry) {
      out.emplace_back(std::move(*entry), mtime_ns_of(file.path()) / 1'000'000'000);
    }
  }
  return out;
}

void BuildCache::remove(const CacheEntry& entry) const
{
  std::error_code ec;
  fs::remove(m_dir / "children" / entry.inputs.parent / entry.key.hex(), ec);
  fs::remove(m_dir / "children" / entry.inputs.parent, ec); // only when empty
  fs::remove(entry_path(entry.key, ".files"), ec);
  fs::remove(entry_path(entry.key, ".json"), ec);
}

} // namespace kiln::builder
