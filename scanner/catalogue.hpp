#pragma once

// The package catalogue of a root filesystem (specs/scanning.md §1): the
// distro from os-release, dpkg's status and distroless's status.d, apk's
// installed DB, Python dist-info/egg-info metadata and npm package.json
// files anywhere in the tree, and which of the language packages a Debian
// package owns. The per-format parsers are exposed for tests.

#include "base/result.hpp"
#include "scanner/package.hpp"
#include "scanner/rootfs.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::scanner {

Catalogue catalogue(const Rootfs& rootfs);

// KEY=value lines; values may be quoted with "…" or '…'.
Distro parse_os_release(std::string_view text);

// dpkg status (every stanza has a Status: field, and only installed ones
// count) or a status.d file (one stanza, no Status:, installed).
enum class StatusField { required, absent };
void parse_dpkg(std::string_view text, std::string_view location, StatusField status,
                std::vector<Package>& out, std::vector<std::string>& warnings);

// apk's lib/apk/db/installed.
void parse_apk_installed(std::string_view text, std::string_view location, std::vector<Package>& out,
                         std::vector<std::string>& warnings);

// A METADATA or PKG-INFO header: the first Name: and Version:.
std::optional<Package> parse_python_metadata(std::string_view text, std::string_view location);

// A node_modules package.json with string name and version.
std::optional<Package> parse_npm_package(std::string_view text, std::string_view location);

// Rootfs paths listed in a dpkg .list ("/usr/lib/…") or .md5sums
// ("<md5>  usr/lib/…") file, without the leading '/'.
std::vector<std::string> parse_file_list(std::string_view text);

} // namespace kiln::scanner
