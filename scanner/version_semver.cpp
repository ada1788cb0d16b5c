#include "scanner/version_semver.hpp"

#include "base/strings.hpp"
#include "scanner/digits.hpp"

namespace kiln::scanner {

namespace {

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool numeric(std::string_view s)
{
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!is_digit(c)) {
      return false;
    }
  }
  return true;
}

bool identifier(std::string_view s)
{
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-') {
      return false;
    }
  }
  return true;
}

// A numeric identifier: digits, and no leading zero unless it is "0".
bool number(std::string_view s)
{
  return numeric(s) && (s.size() == 1 || s[0] != '0');
}

} // namespace

std::optional<SemVersion> SemVersion::parse(std::string_view text)
{
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  if (!text.empty() && (text.front() == 'v' || text.front() == 'V')) {
    text.remove_prefix(1);
  }
  SemVersion v;
  if (auto plus = text.find('+'); plus != std::string_view::npos) {
    for (auto id : split(text.substr(plus + 1), '.')) {
      if (!identifier(id)) {
        return std::nullopt;
      }
    }
    text = text.substr(0, plus);
  }
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    for (auto id : split(text.substr(dash + 1), '.')) {
      if (!identifier(id) || (numeric(id) && !number(id))) {
        return std::nullopt;
      }
      v.prerelease.emplace_back(id);
    }
    text = text.substr(0, dash);
  }
  auto core = split(text, '.');
  if (core.size() != 3 || !number(core[0]) || !number(core[1]) || !number(core[2])) {
    return std::nullopt;
  }
  v.major = core[0];
  v.minor = core[1];
  v.patch = core[2];
  return v;
}

int compare(const SemVersion& a, const SemVersion& b)
{
  for (auto member : {&SemVersion::major, &SemVersion::minor, &SemVersion::patch}) {
    if (int r = compare_digits(a.*member, b.*member); r != 0) {
      return r;
    }
  }
  if (a.prerelease.empty() != b.prerelease.empty()) {
    return a.prerelease.empty() ? 1 : -1;
  }
  for (size_t i = 0; i < a.prerelease.size() || i < b.prerelease.size(); ++i) {
    if (i >= a.prerelease.size()) {
      return -1;
    }
    if (i >= b.prerelease.size()) {
      return 1;
    }
    const auto& x = a.prerelease[i];
    const auto& y = b.prerelease[i];
    bool nx = numeric(x);
    bool ny = numeric(y);
    if (nx != ny) {
      return nx ? -1 : 1;
    }
    int r = nx ? compare_digits(x, y) : x.compare(y);
    if (r != 0) {
      return r < 0 ? -1 : 1;
    }
  }
  return 0;
}

} // namespace kiln::scanner
