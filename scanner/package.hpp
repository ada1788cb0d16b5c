#pragma once

// What the catalogue finds in a root filesystem.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

enum class PackageType { deb, apk, python, npm };

inline std::string_view package_type_name(PackageType type)
{
  switch (type) {
  case PackageType::deb:
    return "deb";
  case PackageType::apk:
    return "apk";
  case PackageType::python:
    return "python";
  case PackageType::npm:
    return "npm";
  }
  return "?";
}

struct Package
{
  PackageType type = PackageType::deb;
  std::string name;    // as found (display and purls)
  std::string version; // as found
  std::string arch;
  std::string source_name;    // deb: Source (or Package); apk: origin
  std::string source_version; // deb: the source version
  std::string licence;
  std::string location; // rootfs path of the metadata that records it
  std::string layer;    // diff_id of the layer that added it; filled in by the builder
  // For Python and npm packages whose metadata file a Debian package ships:
  // the index of that Debian package. They are matched through it only.
  std::optional<size_t> owner;
};

// The distribution, from etc/os-release.
struct Distro
{
  std::string id;         // "debian", "alpine"
  std::string version_id; // "12", "3.19.1"; empty for testing/sid
  std::string pretty_name;
  std::string ecosystem; // "Debian:12", "Alpine:v3.19"; empty when unknown
};

struct Catalogue
{
  Distro distro;
  std::vector<Package> packages;
  std::vector<std::string> warnings; // broken records, unreadable files
};

} // namespace kiln::scanner
