#include "scanner/version.hpp"

#include "base/error.hpp"

namespace kiln::scanner {

std::string_view scheme_name(VersionScheme scheme)
{
  switch (scheme) {
  case VersionScheme::dpkg:
    return "dpkg";
  case VersionScheme::pep440:
    return "PEP 440";
  case VersionScheme::semver:
    return "SemVer";
  }
  return "?";
}

std::optional<Version> Version::parse(VersionScheme scheme, std::string_view text)
{
  Version v;
  switch (scheme) {
  case VersionScheme::dpkg:
    if (auto d = DpkgVersion::parse(text)) {
      v.m_value = std::move(*d);
      return v;
    }
    return std::nullopt;
  case VersionScheme::pep440:
    if (auto p = Pep440Version::parse(text)) {
      v.m_value = std::move(*p);
      return v;
    }
    return std::nullopt;
  case VersionScheme::semver:
    if (auto s = SemVersion::parse(text)) {
      v.m_value = std::move(*s);
      return v;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

int compare(const Version& a, const Version& b)
{
  if (a.m_value.index() != b.m_value.index()) {
    throw Fatal("compare versions: the two sides come from different schemes");
  }
  return std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return compare(x, std::get<T>(b.m_value));
      },
      a.m_value);
}

std::optional<int> compare_versions(VersionScheme scheme, std::string_view a, std::string_view b)
{
  auto x = Version::parse(scheme, a);
  auto y = Version::parse(scheme, b);
  if (!x || !y) {
    return std::nullopt;
  }
  return compare(*x, *y);
}

} // namespace kiln::scanner
