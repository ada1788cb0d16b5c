#pragma once

// One entry point over the three version schemes, so the matcher can be
// written once: parse both sides with the scheme the ecosystem (or an OSV
// SEMVER range) names, then compare.

#include "scanner/version_dpkg.hpp"
#include "scanner/version_pep440.hpp"
#include "scanner/version_semver.hpp"

#include <optional>
#include <string_view>
#include <variant>

namespace kiln::scanner {

enum class VersionScheme { dpkg, pep440, semver };

std::string_view scheme_name(VersionScheme scheme);

class Version
{
public:
  // nullopt when the text is not a version of this scheme.
  static std::optional<Version> parse(VersionScheme scheme, std::string_view text);

  // Both sides must come from the same scheme.
  friend int compare(const Version& a, const Version& b);

private:
  std::variant<DpkgVersion, Pep440Version, SemVersion> m_value;
};

// Compares two strings under a scheme; nullopt when either fails to parse.
std::optional<int> compare_versions(VersionScheme scheme, std::string_view a, std::string_view b);

} // namespace kiln::scanner
