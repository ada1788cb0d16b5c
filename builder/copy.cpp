#include "builder/copy.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"
#include "builder/rootpath.hpp"
#include "oci/tar_entries.hpp"
#include "oci/tree_walk.hpp"

namespace fs = std::filesystem;

namespace kiln::builder {

namespace {

bool has_glob(std::string_view text)
{
  return text.find_first_of("*?[") != std::string_view::npos;
}

// "./a/b/" -> "a/b"; "/" and "." -> "".
std::string normalize(std::string_view path)
{
  std::string out;
  for (auto part : split(path, '/')) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (auto slash = out.rfind('/'); slash != std::string::npos) {
        out.erase(slash);
      } else {
        out.clear();
      }
      continue;
    }
    out += out.empty() ? std::string(part) : "/" + std::string(part);
  }
  return out;
}

std::string join(std::string_view a, std::string_view b)
{
  if (a.empty()) {
    return std::string(b);
  }
  if (b.empty()) {
    return std::string(a);
  }
  return fmt::format("{}/{}", a, b);
}

std::string parent_of(std::string_view path)
{
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

std::string base_of(std::string_view path)
{
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool is_archive(const fs::path& file)
{
  unsigned char head[512] = {};
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  ssize_t n = fd ? ::read(fd.get(), head, sizeof(head)) : -1;
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    return true; // gzip
  }
  if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) {
    return true; // zstd
  }
  if (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') {
    return true; // bzip2
  }
  if (n >= 6 && head[0] == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X') {
    return true; // xz
  }
  return n >= 262 && std::string_view(reinterpret_cast<char*>(head) + 257, 5) == "ustar";
}

struct Walked
{
  std::shared_ptr<const Fd> root;
  std::vector<oci::LayerEntry> entries; // paths relative to the source root
};

// Every entry under `dir` (relative to the source root), paths relative to
// the root; with `only`, just dir's child of that name and what is under it.
Result<std::vector<oci::LayerEntry>> walk_below(int root_fd, const std::string& dir, const std::string& only)
{
  auto fd = dir.empty() ? Result<Fd>(Fd(::dup(root_fd))) : open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY);
  if (!fd) {
    return fail(fd.error());
  }
  auto walked = oci::walk_tree(fd->get(), oci::WalkMode::plain, only);
  if (!walked) {
    return fail(walked.error());
  }
  auto shared = std::make_shared<const Fd>(std::move(*fd));
  for (auto& entry : walked->entries) {
    // Re-point the opener at the shared fd of this walk, then re-root paths.
    if (entry.type == oci::EntryType::regular) {
      entry.open = oci::opener_beneath(shared, entry.path);
    }
    entry.path = join(dir, entry.path);
    if (!entry.hardlink_target.empty()) {
      entry.hardlink_target = join(dir, entry.hardlink_target);
    }
  }
  return std::move(walked->entries);
}

} // namespace

std::optional<uint32_t> parse_octal_mode(std::string_view text)
{
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return std::nullopt;
    }
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  return mode;
}

Result<CopyPlan> plan_copy(int root_fd, const fs::path& root, SourceKind kind, const IgnoreMatcher* ignore,
                           const CopyRequest& request, const fs::path& spool)
{
  bool several = request.sources.size() > 1;
  std::string destination = normalize(request.destination);
  bool into_dir = request.destination.ends_with('/') || request.destination_is_dir || several;
  std::map<std::string, std::pair<oci::LayerEntry, std::string>> planned; // by target: entry, origin
  CopyPlan plan;
  auto excluded = [&](const std::string& relative) {
    if (kind == SourceKind::context && ignore != nullptr && ignore->excluded(relative)) {
      return true;
    }
    for (const auto& pattern : request.excludes) {
      if (::fnmatch(normalize(pattern).c_str(), relative.c_str(), FNM_PATHNAME) == 0) {
        return true;
      }
    }
    return false;
  };
  auto place = [&](oci::LayerEntry entry, const std::string& target) {
    std::string origin = std::move(entry.path);
    entry.path = target;
    if (kind == SourceKind::context) {
      entry.uid = 0;
      entry.gid = 0;
    }
    if (request.chown) {
      entry.uid = request.chown->first;
      entry.gid = request.chown->second;
    }
    if (request.chmod && entry.type != oci::EntryType::symlink) {
      entry.mode = *request.chmod;
    }
    if (entry.type == oci::EntryType::regular) {
      ++plan.files;
      plan.bytes += entry.size;
    }
    std::string key = entry.path;
    planned[key] = {std::move(entry), std::move(origin)};
  };

  for (const auto& raw_source : request.sources) {
    if (raw_source.find("://") != std::string::npos) {
      return fail(fmt::format("{} source \"{}\": kiln builds offline and does not fetch URLs; download it into "
                              "the context first",
                              request.extract_archives ? "ADD" : "COPY", raw_source));
    }
    std::string source = normalize(raw_source);
    // --parents keeps the path below the "/./" pivot, else the whole path.
    std::string kept_from;
    if (request.parents) {
      std::string_view raw = raw_source;
      while (raw.starts_with("./")) {
        raw.remove_prefix(2);
      }
      if (size_t pivot = raw.find("/./"); pivot != std::string_view::npos) {
        kept_from = normalize(raw.substr(0, pivot));
      }
    }
    auto kept = [&](const std::string& path) {
      return kept_from.empty() ? path : path.substr(std::min(path.size(), kept_from.size() + 1));
    };
    // The directory to walk: the literal part of the pattern before any
    // glob; a literal source walks only itself (`COPY --from=build
    // /usr/bin/app` reads one file, not /usr/bin).
    std::string walk_dir;
    std::string only;
    for (auto part : split(source, '/')) {
      if (has_glob(part)) {
        break;
      }
      walk_dir = join(walk_dir, part);
    }
    if (!has_glob(source)) {
      walk_dir = parent_of(source);
      only = base_of(source);
    }
    auto entries = walk_below(root_fd, walk_dir, only);
    if (!entries) {
      return fail(fmt::format("COPY source \"{}\": {}", raw_source, entries.error()));
    }
    // The entries the pattern names; directories bring their contents.
    std::vector<std::string> matched;
    for (const auto& entry : *entries) {
      bool hit = source.empty() ? false
                 : has_glob(source) ? ::fnmatch(source.c_str(), entry.path.c_str(), FNM_PATHNAME) == 0
                                    : entry.path == source;
      if (hit && !excluded(entry.path)) {
        matched.push_back(entry.path);
      }
    }
    if (source.empty()) {
      matched.push_back(""); // "." or "/": the whole root's contents
    }
    if (matched.empty()) {
      return fail(fmt::format("COPY source \"{}\": no such file or directory in the {}", raw_source,
                              kind == SourceKind::context ? "build context (or excluded by the ignore file)"
                                                          : "source filesystem"));
    }
    bool multi = several || matched.size() > 1 || has_glob(source) || request.parents;
    for (const auto& match : matched) {
      const oci::LayerEntry* self = nullptr;
      for (const auto& entry : *entries) {
        if (entry.path == match) {
          self = &entry;
        }
      }
      if (match.empty() || (self != nullptr && self->type == oci::EntryType::directory)) {
        std::string prefix = match.empty() ? "" : match + "/";
        std::string below = request.parents && !match.empty() ? join(destination, kept(match)) : destination;
        for (const auto& entry : *entries) {
          if (!entry.path.starts_with(prefix) || entry.path == match || excluded(entry.path)) {
            continue;
          }
          place(entry, join(below, entry.path.substr(prefix.size())));
        }
        if (self != nullptr && !below.empty()) {
          oci::LayerEntry top = *self;
          place(top, below);
        }
        continue;
      }
      std::string target = request.parents          ? join(destination, kept(match))
                           : (into_dir || multi) ? join(destination, base_of(match))
                                                 : destination;
      if (request.extract_archives && self->type == oci::EntryType::regular && is_archive(root / match)) {
        fs::path scratch = spool / fmt::format("add-{}", planned.size());
        fs::create_directories(scratch);
        auto archive = oci::read_tar_entries(root / match, scratch);
        if (!archive) {
          return fail(fmt::format("ADD \"{}\": {}", raw_source, archive.error()));
        }
        for (auto& entry : archive->entries) {
          // Extracted files keep the archive's owners, as Docker does.
          std::string inside = entry.path;
          entry.path = join(destination, inside);
          if (request.chown) {
            entry.uid = request.chown->first;
            entry.gid = request.chown->second;
          }
          std::string key = entry.path;
          planned[key] = {std::move(entry), std::string()}; // not a context file: hashed each time
        }
        continue;
      }
      place(*self, target);
    }
  }
  plan.entries.reserve(planned.size());
  plan.origins.reserve(planned.size());
  for (auto& [path, placed] : planned) {
    plan.entries.push_back(std::move(placed.first));
    plan.origins.push_back(std::move(placed.second));
  }
  return plan;
}

} // namespace kiln::builder
