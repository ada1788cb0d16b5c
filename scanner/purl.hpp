#pragma once

// package-url strings (https://github.com/package-url/purl-spec) as
// specs/scanning.md §6.1 fixes them for deb, pypi and npm.

#include "scanner/package.hpp"

#include <string>
#include <string_view>

namespace kiln::scanner {

// Percent-encodes everything except A-Z a-z 0-9 . - _ ~ and ':' (uppercase hex).
std::string purl_encode(std::string_view text);

// pkg:deb/debian/NAME@VERSION?arch=…&distro=debian-12[&upstream=…],
// pkg:apk/alpine/…, pkg:pypi/PEP503@VERSION, pkg:npm/%40scope/name@VERSION.
std::string purl(const Package& package, const Distro& distro);

} // namespace kiln::scanner
