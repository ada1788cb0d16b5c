#include "builder/ignore.hpp"

#include "base/fileio.hpp"

#include <fmt/core.h>

namespace kiln::builder {

// One element of a compiled pattern, mirroring the regular expression
// moby's patternmatcher builds: a literal, [^/]*, [^/], (.*/)?, .* or a class.
struct IgnoreMatcher::Token
{
  enum class Kind { literal, star, one, dirs, tail, klass };
  Kind kind = Kind::literal;
  char c = 0;
  bool negated = false;
  std::vector<std::pair<unsigned char, unsigned char>> ranges;

  bool accepts(char ch) const
  {
    auto u = static_cast<unsigned char>(ch);
    bool in = false;
    for (const auto& [lo, hi] : ranges) {
      in = in || (u >= lo && u <= hi);
    }
    return in != negated;
  }
};

struct IgnoreMatcher::Pattern
{
  enum class Type { exact, prefix, suffix, regexp };
  std::string cleaned;
  bool exclusion = false; // a '!' line
  Type type = Type::exact;
  std::vector<Token> tokens;

  bool match(std::string_view path) const
  {
    switch (type) {
    case Type::exact:
      return path == cleaned;
    case Type::prefix:
      return path.starts_with(std::string_view(cleaned).substr(0, cleaned.size() - 2));
    case Type::suffix: {
      std::string_view suffix = std::string_view(cleaned).substr(2);
      if (path.ends_with(suffix)) {
        return true;
      }
      return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
    }
    case Type::regexp:
      break;
    }
    // Simulates the expression over all start positions at once: reach[j]
    // says the tokens so far can match path[0, j). Linear in tokens x path.
    const size_t n = path.size();
    std::vector<char> reach(n + 1, 0);
    std::vector<char> next(n + 1, 0);
    reach[0] = 1;
    for (const Token& t : tokens) {
      std::fill(next.begin(), next.end(), 0);
      bool seen = false;
      for (size_t j = 0; j <= n; ++j) {
        switch (t.kind) {
        case Token::Kind::literal:
          if (j > 0 && reach[j - 1] && path[j - 1] == t.c) {
            next[j] = 1;
          }
          break;
        case Token::Kind::one:
          if (j > 0 && reach[j - 1] && path[j - 1] != '/') {
            next[j] = 1;
          }
          break;
        case Token::Kind::klass:
          if (j > 0 && reach[j - 1] && t.accepts(path[j - 1])) {
            next[j] = 1;
          }
          break;
        case Token::Kind::star:
          next[j] = reach[j] || (j > 0 && next[j - 1] && path[j - 1] != '/');
          break;
        case Token::Kind::tail:
          seen = seen || reach[j];
          next[j] = seen;
          break;
        case Token::Kind::dirs:
          // (.*/)? : nothing, or anything that ends in '/'.
          next[j] = reach[j] || (j > 0 && seen && path[j - 1] == '/');
          seen = seen || reach[j];
          break;
        }
      }
      reach.swap(next);
    }
    return reach[n] != 0;
  }
};

namespace {

using Token = IgnoreMatcher::Token;
using Pattern = IgnoreMatcher::Pattern;

std::string_view trim(std::string_view s)
{
  auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  while (!s.empty() && blank(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && blank(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

Token make_token(Token::Kind kind)
{
  Token t;
  t.kind = kind;
  return t;
}

Result<Pattern> compile(std::string cleaned, bool exclusion)
{
  Pattern p;
  p.cleaned = std::move(cleaned);
  p.exclusion = exclusion;
  const std::string& s = p.cleaned;
  auto literal = [&](char c) {
    Token t;
    t.c = c;
    p.tokens.push_back(t);
  };
  for (size_t i = 0, step = 0; i < s.size(); ++step) {
    char c = s[i++];
    if (c == '*') {
      if (i < s.size() && s[i] == '*') {
        ++i;
        if (i < s.size() && s[i] == '/') {
          ++i;
        }
        if (i == s.size()) {
          if (p.type == Pattern::Type::exact) {
            p.type = Pattern::Type::prefix;
          } else {
            p.tokens.push_back(make_token(Token::Kind::tail));
            p.type = Pattern::Type::regexp;
          }
        } else {
          p.tokens.push_back(make_token(Token::Kind::dirs));
          p.type = Pattern::Type::regexp;
        }
        if (step == 0) {
          p.type = Pattern::Type::suffix;
        }
      } else {
        p.tokens.push_back(make_token(Token::Kind::star));
        p.type = Pattern::Type::regexp;
      }
    } else if (c == '?') {
      p.tokens.push_back(make_token(Token::Kind::one));
      p.type = Pattern::Type::regexp;
    } else if (c == '\\') {
      literal(i < s.size() ? s[i++] : '\\');
    } else if (c == '[') {
      Token t = make_token(Token::Kind::klass);
      if (i < s.size() && s[i] == '^') {
        t.negated = true;
        ++i;
      }
      bool closed = false;
      bool first = true;
      while (i < s.size()) {
        unsigned char lo = static_cast<unsigned char>(s[i++]);
        if (lo == ']' && !first) {
          closed = true;
          break;
        }
        first = false;
        if (lo == '\\' && i < s.size()) {
          lo = static_cast<unsigned char>(s[i++]);
        }
        unsigned char hi = lo;
        if (i + 1 < s.size() && s[i] == '-' && s[i + 1] != ']') {
          hi = static_cast<unsigned char>(s[i + 1]);
          i += 2;
          if (hi == '\\' && i < s.size()) {
            hi = static_cast<unsigned char>(s[i++]);
          }
          if (hi < lo) {
            return fail(fmt::format("invalid character class range {}-{}", static_cast<char>(lo),
                                    static_cast<char>(hi)));
          }
        }
        t.ranges.emplace_back(lo, hi);
      }
      if (!closed) {
        return fail("missing closing ] in character class");
      }
      p.tokens.push_back(std::move(t));
      p.type = Pattern::Type::regexp;
    } else if (c == ']') {
      literal(c);
      p.type = Pattern::Type::regexp;
    } else {
      literal(c);
    }
  }
  return p;
}

} // namespace

IgnoreMatcher::IgnoreMatcher() = default;
IgnoreMatcher::~IgnoreMatcher() = default;
IgnoreMatcher::IgnoreMatcher(const IgnoreMatcher&) = default;
IgnoreMatcher::IgnoreMatcher(IgnoreMatcher&&) noexcept = default;
IgnoreMatcher& IgnoreMatcher::operator=(const IgnoreMatcher&) = default;
IgnoreMatcher& IgnoreMatcher::operator=(IgnoreMatcher&&) noexcept = default;

std::string clean_path(std::string_view path)
{
  if (path.empty()) {
    return ".";
  }
  bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == ".") {
      // dropped
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += parts[i];
  }
  if (out.empty()) {
    return ".";
  }
  return out;
}

Result<IgnoreMatcher> IgnoreMatcher::parse(std::string_view text)
{
  IgnoreMatcher matcher;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.starts_with('#')) {
      continue;
    }
    std::string_view pattern = trim(line);
    if (pattern.empty()) {
      continue;
    }
    bool exclusion = pattern[0] == '!';
    if (exclusion) {
      pattern = trim(pattern.substr(1));
      if (pattern.empty()) {
        return fail(fmt::format("ignore file line {}: illegal exclusion pattern: \"!\"", number));
      }
    }
    std::string cleaned = clean_path(pattern);
    if (cleaned.size() > 1 && cleaned[0] == '/') {
      cleaned.erase(0, 1);
    }
    auto compiled = compile(std::move(cleaned), exclusion);
    if (!compiled) {
      return fail(fmt::format("ignore file line {}: pattern \"{}\": {}", number, pattern, compiled.error()));
    }
    matcher.m_patterns.push_back(std::move(*compiled));
  }
  return matcher;
}

Result<IgnoreMatcher> IgnoreMatcher::load(const std::filesystem::path& path)
{
  auto text = read_file(path);
  if (!text) {
    return fail(text.error());
  }
  auto matcher = parse(*text);
  if (!matcher) {
    return fail(fmt::format("read {}: {}", path.string(), matcher.error()));
  }
  return matcher;
}

bool IgnoreMatcher::excluded(std::string_view path) const
{
  std::string file = clean_path(path);
  if (file.size() > 1 && file[0] == '/') {
    file.erase(0, 1);
  }
  // The parent directories, shortest first: "a", "a/b" for "a/b/c".
  std::vector<std::string_view> parents;
  for (size_t slash = file.find('/'); slash != std::string::npos; slash = file.find('/', slash + 1)) {
    parents.push_back(std::string_view(file).substr(0, slash));
  }
  bool matched = false;
  for (const auto& pattern : m_patterns) {
    // An exclusion can only change a match and an inclusion a non-match.
    if (pattern.exclusion != matched) {
      continue;
    }
    bool hit = pattern.match(file);
    for (size_t i = 0; !hit && i < parents.size(); ++i) {
      hit = pattern.match(parents[i]);
    }
    if (hit) {
      matched = !pattern.exclusion;
    }
  }
  return matched;
}

bool IgnoreMatcher::has_exceptions() const
{
  for (const auto& p : m_patterns) {
    if (p.exclusion) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> IgnoreMatcher::patterns() const
{
  std::vector<std::string> out;
  for (const auto& p : m_patterns) {
    out.push_back((p.exclusion ? "!" : "") + p.cleaned);
  }
  return out;
}

std::optional<std::filesystem::path>
find_ignore_file(const std::filesystem::path& context,
                 const std::optional<std::filesystem::path>& explicit_file)
{
  if (explicit_file) {
    return explicit_file;
  }
  for (const char* name : {".containerignore", ".dockerignore"}) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(context / name, ec)) {
      return context / name;
    }
  }
  return std::nullopt;
}

} // namespace kiln::builder
