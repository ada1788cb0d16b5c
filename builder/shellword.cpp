#include "builder/shellword.hpp"

#include <algorithm>
#include <fmt/core.h>
#include <locale.h>
#include <wctype.h>

namespace kiln::builder {

namespace {

constexpr int k_max_depth = 100; // nested ${...}; bounds the recursion on hostile input
// Bounds what expansion may build ("ENV A=$A$A" repeated doubles each time),
// so hostile input cannot make the parser grow without bound.
constexpr size_t k_max_word = 1 << 20;
// ${V#p} on longer values is refused: matching costs value x pattern.
constexpr size_t k_max_trim = 65536;

bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c)
{
  return c >= '0' && c <= '9';
}

bool is_name_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

// Docker's names take any Unicode letter or digit (Go's unicode.IsLetter and
// IsDigit). Returns the byte length of the UTF-8 sequence at the start of
// text when it encodes one, else 0. glibc's C.UTF-8 locale classifies.
size_t unicode_letter_width(std::string_view text)
{
  static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  auto lead = static_cast<unsigned char>(text[0]);
  if (utf8 == static_cast<locale_t>(nullptr) || lead < 0xC2 || lead > 0xF4) {
    return 0;
  }
  size_t width = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  if (text.size() < width) {
    return 0;
  }
  char32_t cp = lead & (width == 2 ? 0x1F : width == 3 ? 0x0F : 0x07);
  for (size_t i = 1; i < width; ++i) {
    auto cont = static_cast<unsigned char>(text[i]);
    if ((cont & 0xC0) != 0x80) {
      return 0;
    }
    cp = (cp << 6) | (cont & 0x3F);
  }
  bool overlong = (width == 3 && cp < 0x800) || (width == 4 && cp < 0x10000);
  if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return iswalnum_l(static_cast<wint_t>(cp), utf8) ? width : 0;
}

bool is_special_param(char c)
{
  switch (c) {
  case '@':
  case '*':
  case '#':
  case '?':
  case '-':
  case '$':
  case '!':
  case '0':
    return true;
  default:
    return false;
  }
}

// Splits what process() produces into words: unquoted whitespace separates
// them, quoted text and escaped characters never do.
class WordCollector
{
public:
  void add_char(char c)
  {
    if (is_space(c)) {
      finish_word();
      return;
    }
    m_word += c;
    m_in_word = true;
  }
  void add_raw_char(char c)
  {
    m_word += c;
    m_in_word = true;
  }
  void add_string(std::string_view s)
  {
    for (char c : s) {
      add_char(c);
    }
  }
  void add_raw_string(std::string_view s)
  {
    m_word += s;
    m_in_word = true;
  }
  std::vector<std::string> take()
  {
    finish_word();
    return std::move(m_words);
  }

private:
  void finish_word()
  {
    if (m_in_word) {
      m_words.push_back(std::move(m_word));
      m_word.clear();
      m_in_word = false;
    }
  }
  std::vector<std::string> m_words;
  std::string m_word;
  bool m_in_word = false;
};

// The glob of ${V#pattern} and ${V%pattern}: '*' any string, '?' one
// character, the escape character quotes the next one.
struct GlobToken
{
  enum class Kind { literal, one, star };
  Kind kind = Kind::literal;
  char c = 0;
};

std::vector<GlobToken> glob_tokens(std::string_view pattern, char escape)
{
  std::vector<GlobToken> out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == escape && i + 1 < pattern.size()) {
      out.push_back({GlobToken::Kind::literal, pattern[++i]});
    } else if (c == '*') {
      out.push_back({GlobToken::Kind::star, 0});
    } else if (c == '?') {
      out.push_back({GlobToken::Kind::one, 0});
    } else {
      out.push_back({GlobToken::Kind::literal, c});
    }
  }
  return out;
}

// matches[k] is true when the tokens match the first k characters of text.
// An NFA simulation over token positions: O(text x tokens), never exponential.
std::vector<bool> glob_prefix_matches(const std::vector<GlobToken>& tokens, std::string_view text)
{
  const size_t m = tokens.size();
  std::vector<char> states(m + 1, 0);
  auto close = [&](std::vector<char>& set) {
    for (size_t t = 0; t < m; ++t) {
      if (set[t] && tokens[t].kind == GlobToken::Kind::star) {
        set[t + 1] = 1;
      }
    }
  };
  states[0] = 1;
  close(states);
  std::vector<bool> matches(text.size() + 1, false);
  matches[0] = states[m] != 0;
  std::vector<char> next(m + 1, 0);
  for (size_t i = 0; i < text.size(); ++i) {
    std::fill(next.begin(), next.end(), 0);
    for (size_t t = 0; t < m; ++t) {
      if (!states[t]) {
        continue;
      }
      const GlobToken& tok = tokens[t];
      if (tok.kind == GlobToken::Kind::star) {
        next[t] = 1;
      } else if (tok.kind == GlobToken::Kind::one || tok.c == text[i]) {
        next[t + 1] = 1;
      }
    }
    close(next);
    states.swap(next);
    matches[i + 1] = states[m] != 0;
  }
  return matches;
}

class Processor
{
public:
  Processor(const ShellWord& options, std::string_view text, const Lookup& lookup)
      : m_opt(options), m_text(text), m_lookup(lookup)
  {
  }

  // Processes until `stop` (consumed) or the end of the text; with no stop
  // character (0), the end of the text is the normal end.
  Result<std::string> process(char stop, WordCollector* words, int depth)
  {
    if (depth > k_max_depth) {
      return fail("syntax error: substitutions nested too deeply");
    }
    std::string result;
    while (!at_end()) {
      char c = peek();
      if (stop != 0 && c == stop) {
        ++m_pos;
        return result;
      }
      if (c == '$') {
        auto value = append_dollar(result, depth);
        if (!value) {
          return fail(value.error());
        }
        if (words) {
          words->add_string(*value);
        }
        continue;
      }
      if (c == '\'' || c == '"') {
        auto value = c == '\'' ? single_quote() : double_quote(depth);
        if (!value) {
          return value;
        }
        result += *value;
        if (words) {
          words->add_raw_string(*value);
        }
        continue;
      }
      ++m_pos;
      if (c == m_opt.escape) {
        if (m_opt.escapes == Escapes::keep) {
          result += c;
          if (words) {
            words->add_raw_char(c);
          }
        }
        if (at_end()) {
          break;
        }
        c = m_text[m_pos++];
        result += c;
        if (words) {
          words->add_raw_char(c);
        }
        continue;
      }
      result += c;
      if (words) {
        words->add_char(c);
      }
    }
    if (stop != 0) {
      return fail(fmt::format("unexpected end of statement while looking for matching {}", stop));
    }
    return result;
  }

  bool at_end() const { return m_pos >= m_text.size(); }

private:
  char peek() const { return m_text[m_pos]; }

  Result<std::string> single_quote()
  {
    std::string result;
    if (m_opt.quotes == Quotes::keep) {
      result += '\'';
    }
    ++m_pos;
    for (;;) {
      if (at_end()) {
        return fail("unexpected end of statement while looking for matching single-quote");
      }
      char c = m_text[m_pos++];
      if (c == '\'') {
        if (m_opt.quotes == Quotes::keep) {
          result += c;
        }
        return result;
      }
      result += c;
    }
  }

  Result<std::string> double_quote(int depth)
  {
    std::string result;
    if (m_opt.quotes == Quotes::keep) {
      result += '"';
    }
    ++m_pos;
    for (;;) {
      if (at_end()) {
        return fail("unexpected end of statement while looking for matching double-quote");
      }
      char c = peek();
      if (c == '"') {
        ++m_pos;
        if (m_opt.quotes == Quotes::keep) {
          result += c;
        }
        return result;
      }
      if (c == '$') {
        auto value = append_dollar(result, depth);
        if (!value) {
          return fail(value.error());
        }
        continue;
      }
      ++m_pos;
      if (c == m_opt.escape) {
        if (at_end()) {
          continue; // an escape at the very end is dropped, then the quote is missing
        }
        char next = peek();
        // Inside double quotes only ", $ and the escape character itself can be
        // escaped; any other escape character stays as written.
        if (next == '"' || next == '$' || next == m_opt.escape) {
          if (m_opt.escapes == Escapes::keep) {
            result += c;
          }
          c = next;
          ++m_pos;
        }
      }
      result += c;
    }
  }

  std::string name()
  {
    std::string out;
    if (at_end()) {
      return out;
    }
    char c = peek();
    if (is_digit(c)) {
      while (!at_end() && is_digit(peek())) {
        out += m_text[m_pos++];
      }
      return out;
    }
    if (is_special_param(c)) {
      ++m_pos;
      return std::string(1, c);
    }
    while (!at_end()) {
      if (is_name_char(peek())) {
        out += m_text[m_pos++];
        continue;
      }
      size_t width = unicode_letter_width(m_text.substr(m_pos));
      if (width == 0) {
        break;
      }
      out += m_text.substr(m_pos, width);
      m_pos += width;
    }
    return out;
  }

  std::optional<std::string> lookup(const std::string& key) const { return m_lookup(key); }

  // Expands the $... at the current position onto result; returns the expansion.
  Result<std::string> append_dollar(std::string& result, int depth)
  {
    auto value = dollar(depth);
    if (value) {
      result += *value;
      if (result.size() > k_max_word) {
        return fail("expanded value exceeds 1 MiB");
      }
    }
    return value;
  }

  Result<std::string> dollar(int depth)
  {
    ++m_pos; // the '$'
    if (at_end() || peek() != '{') {
      std::string key = name();
      if (key.empty()) {
        return std::string("$");
      }
      auto value = lookup(key);
      if (!value && m_opt.unset == Unset::keep) {
        return "$" + key;
      }
      return value.value_or("");
    }
    ++m_pos; // the '{'
    if (at_end()) {
      return fail("syntax error: missing '}'");
    }
    if (peek() == '{' || peek() == '}' || peek() == ':') {
      return fail("syntax error: bad substitution");
    }
    std::string key = name();
    if (at_end()) {
      return fail("syntax error: missing '}'");
    }
    char op = m_text[m_pos++];
    if (op == '}') {
      auto value = lookup(key);
      if (!value && m_opt.unset == Unset::keep) {
        return "${" + key + "}";
      }
      return value.value_or("");
    }
    std::string ops(1, op);
    bool null_is_unset = false;
    if (op == ':') {
      null_is_unset = true;
      if (at_end()) {
        return fail("syntax error: missing '}'");
      }
      op = m_text[m_pos++];
      ops += op;
      if (op != '-' && op != '+' && op != '?') {
        return fail(fmt::format("unsupported modifier ({}) in substitution", ops));
      }
    }
    if (op != '-' && op != '+' && op != '?' && op != '#' && op != '%') {
      return fail(fmt::format("unsupported modifier ({}) in substitution", ops));
    }
    ShellWord inner = m_opt;
    if (op == '#' || op == '%') {
      inner.escapes = Escapes::keep; // the pattern keeps its escapes for the glob
    }
    Processor sub(inner, m_text, m_lookup);
    sub.m_pos = m_pos;
    auto word = sub.process('}', nullptr, depth + 1);
    m_pos = sub.m_pos;
    if (!word) {
      if (at_end()) {
        return fail("syntax error: missing '}'");
      }
      return word;
    }
    auto value = lookup(key);
    if (!value && m_opt.unset == Unset::keep) {
      return fmt::format("${{{}{}{}}}", key, ops, *word);
    }
    bool unset = !value || (null_is_unset && value->empty());
    switch (op) {
    case '-':
      return unset ? *word : *value;
    case '+':
      return unset ? std::string() : *word;
    case '?':
      if (!value) {
        return fail(fmt::format("{}: {}", key, word->empty() ? "is not allowed to be unset" : *word));
      }
      if (null_is_unset && value->empty()) {
        return fail(fmt::format("{}: {}", key, word->empty() ? "is not allowed to be empty" : *word));
      }
      return *value;
    default:
      break;
    }
    if (value && value->size() > k_max_trim) {
      return fail(fmt::format("${{{}{}...}}: value longer than {} bytes", key, ops, k_max_trim));
    }
    return trim(op, *word, value.value_or(""));
  }

  // ${V#p} shortest prefix, ${V##p} longest prefix, ${V%p} / ${V%%p} suffixes.
  std::string trim(char op, std::string_view pattern, const std::string& value) const
  {
    bool greedy = !pattern.empty() && pattern[0] == op;
    if (greedy) {
      pattern.remove_prefix(1);
    }
    std::vector<GlobToken> tokens = glob_tokens(pattern, m_opt.escape);
    std::string text = value;
    if (op == '%') {
      // A suffix match is a prefix match of both reversed.
      std::reverse(tokens.begin(), tokens.end());
      std::reverse(text.begin(), text.end());
    }
    std::vector<bool> matches = glob_prefix_matches(tokens, text);
    const size_t n = value.size();
    for (size_t i = 0; i <= n; ++i) {
      size_t len = greedy ? n - i : i;
      if (matches[len]) {
        return op == '#' ? value.substr(len) : value.substr(0, n - len);
      }
    }
    return value;
  }

  const ShellWord& m_opt;
  std::string_view m_text;
  const Lookup& m_lookup;
  size_t m_pos = 0;
};

} // namespace

std::optional<std::string> no_variables(std::string_view)
{
  return std::nullopt;
}

Result<std::string> ShellWord::word(std::string_view text, const Lookup& lookup) const
{
  Processor p(*this, text, lookup);
  return p.process(0, nullptr, 0);
}

Result<std::vector<std::string>> ShellWord::words(std::string_view text, const Lookup& lookup) const
{
  Processor p(*this, text, lookup);
  WordCollector collector;
  auto result = p.process(0, &collector, 0);
  if (!result) {
    return fail(result.error());
  }
  return collector.take();
}

} // namespace kiln::builder
