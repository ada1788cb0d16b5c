#include "scanner/catalogue.hpp"

#include "base/strings.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <set>
#include <unordered_map>

namespace kiln::scanner {

namespace {

bool ends_with(std::string_view s, std::string_view suffix)
{
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view basename(std::string_view path)
{
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view dirname(std::string_view path)
{
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

// node_modules/<name>/package.json or node_modules/@<scope>/<name>/package.json.
bool npm_manifest(std::string_view path)
{
  auto package_dir = dirname(path);
  auto parent = dirname(package_dir);
  if (basename(parent) == "node_modules") {
    return !basename(package_dir).starts_with("@") && !basename(package_dir).starts_with(".");
  }
  return basename(parent).starts_with("@") && basename(dirname(parent)) == "node_modules";
}

class Cataloguer
{
public:
  Cataloguer(const Rootfs& rootfs, Catalogue& out) : m_rootfs(rootfs), m_out(out) {}

  std::optional<std::string> read(const std::string& path)
  {
    auto data = m_rootfs.read(path);
    if (!data) {
      m_out.warnings.push_back(data.error());
      return std::nullopt;
    }
    return *data;
  }

  void os_release()
  {
    for (const char* path : {"etc/os-release", "usr/lib/os-release"}) {
      if (auto text = read(path)) {
        m_out.distro = parse_os_release(*text);
        if (m_out.distro.version_id.empty()) {
          m_out.warnings.push_back(
              fmt::format("{}: no VERSION_ID (testing or unstable?): the release is not guessed, "
                          "so {} packages are catalogued but not matched",
                          path, m_out.distro.id.empty() ? "distro" : m_out.distro.id));
        }
        return;
      }
    }
    m_out.warnings.push_back(
        "no etc/os-release or usr/lib/os-release: distro packages are catalogued but not matched");
  }

  void dpkg()
  {
    std::vector<Package> debs;
    if (auto text = read("var/lib/dpkg/status")) {
      parse_dpkg(*text, "var/lib/dpkg/status", StatusField::required, debs, m_out.warnings);
    }
    if (auto list = listing("var/lib/dpkg/status.d")) {
      for (const auto& e : *list) {
        std::string path = "var/lib/dpkg/status.d/" + e.name;
        if (e.type != EntryType::file) {
          continue;
        }
        if (ends_with(e.name, ".md5sums")) {
          own(path, e.name.substr(0, e.name.size() - 8));
          continue;
        }
        if (auto text = read(path)) {
          parse_dpkg(*text, path, StatusField::absent, debs, m_out.warnings);
        }
      }
    }
    if (auto list = listing("var/lib/dpkg/info")) {
      for (const auto& e : *list) {
        if (e.type != EntryType::file) {
          continue;
        }
        for (std::string_view suffix : {".list", ".md5sums"}) {
          if (ends_with(e.name, suffix)) {
            auto package = e.name.substr(0, e.name.size() - suffix.size());
            own("var/lib/dpkg/info/" + e.name, package.substr(0, package.find(':')));
          }
        }
      }
    }
    // Both locations may describe a package: keep the first (Package, Architecture).
    std::set<std::pair<std::string, std::string>> seen;
    for (auto& p : debs) {
      if (seen.emplace(p.name, p.arch).second) {
        m_deb_index.emplace(p.name, m_out.packages.size());
        m_out.packages.push_back(std::move(p));
      }
    }
  }

  void apk()
  {
    if (auto text = read("lib/apk/db/installed")) {
      parse_apk_installed(*text, "lib/apk/db/installed", m_out.packages, m_out.warnings);
    }
  }

  void languages()
  {
    std::vector<std::pair<std::string, PackageType>> manifests;
    m_rootfs.walk(
        [&](const std::string& path, EntryType type) {
          if (type == EntryType::directory && (path == "proc" || path == "sys" || path == "dev")) {
            return false;
          }
          auto name = basename(path);
          if (ends_with(name, ".dist-info") && type == EntryType::directory) {
            manifests.emplace_back(path + "/METADATA", PackageType::python);
            return false;
          }
          if (ends_with(name, ".egg-info")) {
            if (type == EntryType::directory) {
              manifests.emplace_back(path + "/PKG-INFO", PackageType::python);
              return false;
            }
            if (type == EntryType::file) {
              manifests.emplace_back(path, PackageType::python);
            }
            return true;
          }
          if (type == EntryType::file && name == "package.json" && npm_manifest(path)) {
            manifests.emplace_back(path, PackageType::npm);
          }
          return true;
        },
        [&](const std::string& warning) { m_out.warnings.push_back(warning); });
    for (const auto& [path, type] : manifests) {
      auto data = m_rootfs.read(path, 4 << 20);
      if (!data) {
        m_out.warnings.push_back(data.error());
        continue;
      }
      if (!*data) {
        continue; // a dist-info directory without METADATA
      }
      auto package =
          type == PackageType::python ? parse_python_metadata(**data, path) : parse_npm_package(**data, path);
      if (!package) {
        if (type == PackageType::python) {
          m_out.warnings.push_back(fmt::format("{}: no Name or Version in the header; skipped", path));
        }
        continue; // package.json without string name and version: not a package
      }
      package->owner = owner_of(path);
      m_out.packages.push_back(std::move(*package));
    }
  }

private:
  std::optional<std::vector<DirEntry>> listing(const std::string& path)
  {
    auto list = m_rootfs.list(path);
    if (!list) {
      m_out.warnings.push_back(list.error());
      return std::nullopt;
    }
    return *list;
  }

  // Records which Debian package ships the language metadata files listed in
  // a .list/.md5sums file; other paths are not needed.
  void own(const std::string& list_path, const std::string& package)
  {
    auto text = read(list_path);
    if (!text) {
      return;
    }
    for (auto& path : parse_file_list(*text)) {
      if (path.find(".dist-info") != std::string::npos || path.find(".egg-info") != std::string::npos ||
          path.find("node_modules/") != std::string::npos) {
        m_owned.emplace(std::move(path), package);
      }
    }
  }

  std::optional<size_t> owner_of(const std::string& path) const
  {
    for (std::string_view candidate : {std::string_view(path), dirname(path)}) {
      auto owned = m_owned.find(std::string(candidate));
      if (owned == m_owned.end()) {
        continue;
      }
      if (auto deb = m_deb_index.find(owned->second); deb != m_deb_index.end()) {
        return deb->second;
      }
    }
    return std::nullopt;
  }

  const Rootfs& m_rootfs;
  Catalogue& m_out;
  std::unordered_map<std::string, std::string> m_owned; // rootfs path -> binary package
  std::unordered_map<std::string, size_t> m_deb_index;  // binary package -> index in m_out.packages
};

} // namespace

Catalogue catalogue(const Rootfs& rootfs)
{
  Catalogue out;
  Cataloguer c(rootfs, out);
  c.os_release();
  c.dpkg();
  c.apk();
  c.languages();
  return out;
}

} // namespace kiln::scanner
