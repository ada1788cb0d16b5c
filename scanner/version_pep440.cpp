#include "scanner/version_pep440.hpp"

#include "scanner/digits.hpp"

#include <array>
#include <functional>

namespace kiln::scanner {

// packaging's VERSION_PATTERN, matched case-insensitively and anchored:
//   \s* v? (N!)? N(.N)*
//   ([-_.]? (a|b|c|rc|alpha|beta|pre|preview) [-_.]? N?)?
//   ((-N) | ([-_.]? (post|rev|r) [-_.]? N?))?
//   ([-_.]? dev [-_.]? N?)?
//   (\+ [a-z0-9]+ ([-_.][a-z0-9]+)*)? \s*
// Written by hand instead of with std::regex because matching scans long
// `versions` lists, where std::regex costs microseconds per string. Each
// optional group yields its alternatives in the order a backtracking regex
// engine tries them, and the first combination that reaches the end wins,
// so ambiguous spellings resolve exactly as in Python's `re`.

namespace {

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

char lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_sep(char c)
{
  return c == '-' || c == '_' || c == '.';
}

bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string strip_zeros(std::string_view digits)
{
  size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') {
    ++i;
  }
  return std::string(digits.substr(i));
}

bool match_word(std::string_view s, size_t pos, std::string_view word)
{
  if (pos + word.size() > s.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    if (lower(s[pos + i]) != word[i]) {
      return false;
    }
  }
  return true;
}

size_t digits_end(std::string_view s, size_t pos)
{
  while (pos < s.size() && is_digit(s[pos])) {
    ++pos;
  }
  return pos;
}

struct Part
{
  size_t end;
  int kind;           // pre: 0 a, 1 b, 2 rc; post/dev: 0
  std::string number; // may be empty: a missing number means 0
};

// `[-_.]? LABEL [-_.]? N?` for each label in order; labels map to kinds.
template <size_t N>
void labelled(std::string_view s, size_t pos, const std::array<std::pair<std::string_view, int>, N>& labels,
              std::vector<Part>& out)
{
  for (int with_sep = 1; with_sep >= 0; --with_sep) {
    size_t p = pos;
    if (with_sep) {
      if (p >= s.size() || !is_sep(s[p])) {
        continue;
      }
      ++p;
    }
    for (const auto& [label, kind] : labels) {
      if (!match_word(s, p, label)) {
        continue;
      }
      size_t q = p + label.size();
      for (int with_sep2 = 1; with_sep2 >= 0; --with_sep2) {
        size_t r = q;
        if (with_sep2) {
          if (r >= s.size() || !is_sep(s[r])) {
            continue;
          }
          ++r;
        }
        size_t e = digits_end(s, r);
        if (e > r) {
          out.push_back({e, kind, std::string(s.substr(r, e - r))});
        }
        out.push_back({r, kind, ""});
      }
    }
  }
}

constexpr std::array<std::pair<std::string_view, int>, 8> k_pre_labels{
    {{"a", 0}, {"b", 1}, {"c", 2}, {"rc", 2}, {"alpha", 0}, {"beta", 1}, {"pre", 2}, {"preview", 2}}};
constexpr std::array<std::pair<std::string_view, int>, 3> k_post_labels{{{"post", 0}, {"rev", 0}, {"r", 0}}};
constexpr std::array<std::pair<std::string_view, int>, 1> k_dev_labels{{{"dev", 0}}};

bool parse_local(std::string_view s, std::vector<std::string>& out)
{
  std::string segment;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || is_sep(s[i])) {
      if (segment.empty()) {
        return false;
      }
      out.push_back(segment);
      segment.clear();
      continue;
    }
    char c = lower(s[i]);
    if (!is_digit(c) && !(c >= 'a' && c <= 'z')) {
      return false;
    }
    segment.push_back(c);
  }
  return true;
}

bool all_digits(const std::string& s)
{
  for (char c : s) {
    if (!is_digit(c)) {
      return false;
    }
  }
  return true;
}

} // namespace

std::optional<Pep440Version> Pep440Version::parse(std::string_view text)
{
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  // Trailing local part: everything from the first '+' must be a valid local.
  Pep440Version v;
  std::string_view body = text;
  if (auto plus = text.find('+'); plus != std::string_view::npos) {
    body = text.substr(0, plus);
    if (!parse_local(text.substr(plus + 1), v.local)) {
      return std::nullopt;
    }
    v.has_local = true;
  }
  size_t pos = 0;
  if (pos < body.size() && lower(body[pos]) == 'v') {
    ++pos; // `v?` is greedy, and nothing else may start with a 'v'
  }
  size_t e = digits_end(body, pos);
  if (e > pos && e < body.size() && body[e] == '!') {
    v.epoch = strip_zeros(body.substr(pos, e - pos));
    pos = e + 1;
  } else {
    v.epoch = "0";
  }
  // Release: N(.N)*, greedy; a shorter release never lets the rest match.
  e = digits_end(body, pos);
  if (e == pos) {
    return std::nullopt;
  }
  v.release.push_back(strip_zeros(body.substr(pos, e - pos)));
  pos = e;
  while (pos + 1 < body.size() && body[pos] == '.' && is_digit(body[pos + 1])) {
    e = digits_end(body, pos + 1);
    v.release.push_back(strip_zeros(body.substr(pos + 1, e - pos - 1)));
    pos = e;
  }
  while (v.release.size() > 1 && v.release.back() == "0") {
    v.release.pop_back();
  }
  if (v.release.size() == 1 && v.release[0] == "0") {
    v.release.clear();
  }

  // The optional pre, post and dev groups, tried in regex order.
  std::vector<Part> pres;
  labelled(body, pos, k_pre_labels, pres);
  pres.push_back({pos, -1, ""});
  for (const auto& pre : pres) {
    std::vector<Part> posts;
    if (pre.end < body.size() && body[pre.end] == '-') {
      size_t pe = digits_end(body, pre.end + 1);
      if (pe > pre.end + 1) {
        posts.push_back({pe, 0, std::string(body.substr(pre.end + 1, pe - pre.end - 1))});
      }
    }
    labelled(body, pre.end, k_post_labels, posts);
    posts.push_back({pre.end, -1, ""});
    for (const auto& post : posts) {
      std::vector<Part> devs;
      labelled(body, post.end, k_dev_labels, devs);
      devs.push_back({post.end, -1, ""});
      for (const auto& dev : devs) {
        if (dev.end != body.size()) {
          continue;
        }
        v.pre_kind = pre.kind;
        v.pre = pre.kind >= 0 ? strip_zeros(pre.number.empty() ? "0" : pre.number) : "";
        v.has_post = post.kind >= 0;
        v.post = v.has_post ? strip_zeros(post.number.empty() ? "0" : post.number) : "";
        v.has_dev = dev.kind >= 0;
        v.dev = v.has_dev ? strip_zeros(dev.number.empty() ? "0" : dev.number) : "";
        return v;
      }
    }
  }
  return std::nullopt;
}

int compare(const Pep440Version& a, const Pep440Version& b)
{
  if (int r = compare_digits(a.epoch, b.epoch); r != 0) {
    return r;
  }
  for (size_t i = 0; i < a.release.size() || i < b.release.size(); ++i) {
    if (i >= a.release.size()) {
      return -1;
    }
    if (i >= b.release.size()) {
      return 1;
    }
    if (int r = compare_digits(a.release[i], b.release[i]); r != 0) {
      return r;
    }
  }
  // Pre: a dev-only release sorts below every pre-release (rank 0), a
  // pre-release is rank 1 (then kind and number), no pre-release rank 2.
  auto pre_rank = [](const Pep440Version& v) {
    if (v.pre_kind < 0 && !v.has_post && v.has_dev) {
      return 0;
    }
    return v.pre_kind < 0 ? 2 : 1;
  };
  int ra = pre_rank(a);
  int rb = pre_rank(b);
  if (ra != rb) {
    return ra < rb ? -1 : 1;
  }
  if (ra == 1) {
    if (a.pre_kind != b.pre_kind) {
      return a.pre_kind < b.pre_kind ? -1 : 1;
    }
    if (int r = compare_digits(a.pre, b.pre); r != 0) {
      return r;
    }
  }
  if (a.has_post != b.has_post) {
    return a.has_post ? 1 : -1;
  }
  if (a.has_post) {
    if (int r = compare_digits(a.post, b.post); r != 0) {
      return r;
    }
  }
  if (a.has_dev != b.has_dev) {
    return a.has_dev ? -1 : 1;
  }
  if (a.has_dev) {
    if (int r = compare_digits(a.dev, b.dev); r != 0) {
      return r;
    }
  }
  if (a.has_local != b.has_local) {
    return a.has_local ? 1 : -1;
  }
  for (size_t i = 0; i < a.local.size() || i < b.local.size(); ++i) {
    if (i >= a.local.size()) {
      return -1;
    }
    if (i >= b.local.size()) {
      return 1;
    }
    bool na = all_digits(a.local[i]);
    bool nb = all_digits(b.local[i]);
    if (na != nb) {
      return na ? 1 : -1; // alphanumeric segments sort before numeric ones
    }
    int r = na ? compare_digits(strip_zeros(a.local[i]), strip_zeros(b.local[i]))
               : a.local[i].compare(b.local[i]);
    if (r != 0) {
      return r < 0 ? -1 : 1;
    }
  }
  return 0;
}

std::string pep503_name(std::string_view name)
{
  std::string out;
  out.reserve(name.size());
  bool in_run = false;
  for (char c : name) {
    if (is_sep(c)) {
      if (!in_run) {
        out.push_back('-');
      }
      in_run = true;
      continue;
    }
    in_run = false;
    out.push_back(lower(c));
  }
  return out;
}

} // namespace kiln::scanner
