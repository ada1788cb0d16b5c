#include "scanner/version_dpkg.hpp"

#include <climits>

namespace kiln::scanner {

namespace {

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool is_alpha(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_alnum(char c)
{
  return is_digit(c) || is_alpha(c);
}

std::string_view trim(std::string_view s)
{
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The weight of one character in a non-digit run: '~' sorts before the end
// of the run, letters before everything else.
int order(char c)
{
  if (is_digit(c)) {
    return 0;
  }
  if (is_alpha(c)) {
    return c;
  }
  if (c == '~') {
    return -1;
  }
  if (c != 0) {
    return static_cast<unsigned char>(c) + 256;
  }
  return 0;
}

// dpkg's verrevcmp(): alternate non-digit runs (compared by weight) and
// digit runs (compared numerically, of any length).
int verrevcmp(std::string_view a, std::string_view b)
{
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
      int ac = i < a.size() ? order(a[i]) : 0;
      int bc = j < b.size() ? order(b[j]) : 0;
      if (ac != bc) {
        return ac - bc;
      }
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0') {
      ++i;
    }
    while (j < b.size() && b[j] == '0') {
      ++j;
    }
    while (i < a.size() && is_digit(a[i]) && j < b.size() && is_digit(b[j])) {
      if (first_diff == 0) {
        first_diff = a[i] - b[j];
      }
      ++i;
      ++j;
    }
    if (i < a.size() && is_digit(a[i])) {
      return 1;
    }
    if (j < b.size() && is_digit(b[j])) {
      return -1;
    }
    if (first_diff != 0) {
      return first_diff;
    }
  }
  return 0;
}

} // namespace

std::optional<DpkgVersion> DpkgVersion::parse(std::string_view text)
{
  text = trim(text);
  if (text.empty()) {
    return std::nullopt;
  }
  DpkgVersion v;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    auto epoch = text.substr(0, colon);
    if (epoch.empty() || epoch.size() > 10) {
      return std::nullopt;
    }
    uint64_t value = 0;
    for (char c : epoch) {
      if (!is_digit(c)) {
        return std::nullopt;
      }
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > INT_MAX) {
      return std::nullopt;
    }
    v.epoch = static_cast<uint32_t>(value);
    text.remove_prefix(colon + 1);
    if (text.empty()) {
      return std::nullopt;
    }
  }
  if (auto dash = text.rfind('-'); dash != std::string_view::npos) {
    v.revision = text.substr(dash + 1);
    text = text.substr(0, dash);
    if (v.revision.empty()) {
      return std::nullopt;
    }
  }
  v.upstream = text;
  if (v.upstream.empty() || !is_digit(v.upstream[0])) {
    return std::nullopt;
  }
  for (char c : v.upstream) {
    if (!is_alnum(c) && c != '.' && c != '+' && c != '~' && c != '-' && c != ':') {
      return std::nullopt;
    }
  }
  for (char c : v.revision) {
    if (!is_alnum(c) && c != '.' && c != '+' && c != '~') {
      return std::nullopt;
    }
  }
  return v;
}

int compare(const DpkgVersion& a, const DpkgVersion& b)
{
  if (a.epoch != b.epoch) {
    return a.epoch < b.epoch ? -1 : 1;
  }
  if (int r = verrevcmp(a.upstream, b.upstream); r != 0) {
    return r;
  }
  return verrevcmp(a.revision, b.revision);
}

} // namespace kiln::scanner
