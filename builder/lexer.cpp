#include "builder/lexer.hpp"

#include "base/strings.hpp"
#include "builder/shellword.hpp"
#include "builder/words.hpp"

#include <fmt/core.h>

namespace kiln::builder {

namespace {

struct Physical
{
  std::string_view text; // without the line ending
  uint32_t number = 0;   // 1-based
};

// Lines as Go's bufio.ScanLines cuts them: "\n" ends a line, one "\r" before
// it is dropped, and a last line without "\n" still counts.
std::vector<Physical> physical_lines(std::string_view text)
{
  std::vector<Physical> lines;
  uint32_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line = text.substr(start, (end == std::string_view::npos ? text.size() : end) - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(Physical{line, ++number});
    start = next;
  }
  return lines;
}

size_t leading_blanks(std::string_view s)
{
  size_t i = 0;
  while (i < s.size() && is_blank(s[i])) {
    ++i;
  }
  return i;
}

bool is_comment(std::string_view s)
{
  size_t i = leading_blanks(s);
  return i < s.size() && s[i] == '#';
}

// "ESC[ \t]*" at the end of a line marks a continuation; returns the length
// of the line without it, or npos when the line does not continue.
size_t continuation_at(std::string_view s, char escape)
{
  size_t end = s.size();
  while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
    --end;
  }
  if (end > 0 && s[end - 1] == escape) {
    return end - 1;
  }
  return std::string_view::npos;
}

// Directive lines: "#" [ \t]* NAME [ \t]* "=" [ \t]* VALUE, NAME a letter
// then letters or digits. Returns false when the line is not of that shape.
bool parse_directive(std::string_view line, std::string& name, std::string& value)
{
  if (line.empty() || line[0] != '#') {
    return false;
  }
  size_t i = 1;
  auto skip = [&] {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
  };
  skip();
  size_t start = i;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (i >= line.size() || !alpha(line[i])) {
    return false;
  }
  while (i < line.size() && (alpha(line[i]) || (line[i] >= '0' && line[i] <= '9'))) {
    ++i;
  }
  name = to_lower(line.substr(start, i - start));
  skip();
  if (i >= line.size() || line[i] != '=') {
    return false;
  }
  ++i;
  skip();
  std::string_view rest = line.substr(i);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) {
    rest.remove_suffix(1);
  }
  if (rest.empty()) {
    return false;
  }
  value = std::string(rest);
  return true;
}

// A heredoc opener word: [digits] "<<" ["-"] NAME, NAME free of '<'.
std::optional<Heredoc> heredoc_from_word(std::string_view word)
{
  size_t i = 0;
  while (i < word.size() && word[i] >= '0' && word[i] <= '9') {
    ++i;
  }
  std::string_view digits = word.substr(0, i);
  if (word.substr(i, 2) != "<<") {
    return std::nullopt;
  }
  i += 2;
  Heredoc doc;
  if (i < word.size() && word[i] == '-') {
    doc.chomp = true;
    ++i;
  }
  std::string_view rest = word.substr(i);
  if (rest.empty() || rest.find('<') != std::string_view::npos) {
    return std::nullopt;
  }
  auto fd = parse_u64(digits);
  doc.fd = fd && *fd < 1024 ? static_cast<unsigned>(*fd) : 0;
  // The delimiter is lexed with and without quote removal: if quoting took
  // anything away, part of it was quoted and the body is not expanded.
  ShellWord plain{'\\', Quotes::remove, Escapes::remove, Unset::keep};
  auto words = plain.words(rest, no_variables);
  if (!words || words->size() != 1) {
    return std::nullopt;
  }
  ShellWord raw{'\\', Quotes::keep, Escapes::remove, Unset::keep};
  auto raw_words = raw.words(rest, no_variables);
  if (!raw_words || raw_words->size() != 1) {
    return std::nullopt;
  }
  auto quotes = [](const std::string& s) {
    size_t n = 0;
    for (char c : s) {
      n += (c == '\'' || c == '"') ? 1 : 0;
    }
    return n;
  };
  doc.name = (*words)[0];
  doc.expand = quotes((*words)[0]) == quotes((*raw_words)[0]);
  return doc;
}

std::string strip_leading_tabs_per_line(std::string_view content)
{
  std::string out;
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') {
      continue;
    }
    out += c;
    line_start = c == '\n';
  }
  return out;
}

} // namespace

bool is_heredoc_word(std::string_view word)
{
  return heredoc_from_word(word).has_value();
}

bool takes_heredocs(std::string_view instruction_lower)
{
  return instruction_lower == "run" || instruction_lower == "copy" || instruction_lower == "add";
}

Lexed lex(std::string_view text, Diagnostics& diagnostics)
{
  Lexed out;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  std::vector<Physical> lines = physical_lines(text);
  size_t n = 0;

  // Parser directives: only at the very top; the first line of another shape
  // (a comment, a blank line, an instruction, an unknown directive) ends them.
  bool seen_escape = false;
  bool seen_syntax = false;
  bool seen_check = false;
  for (; n < lines.size(); ++n) {
    std::string_view line = lines[n].text.substr(leading_blanks(lines[n].text));
    std::string name;
    std::string value;
    if (!parse_directive(line, name, value)) {
      break;
    }
    SourcePos pos{lines[n].number, static_cast<uint32_t>(leading_blanks(lines[n].text) + 1)};
    bool* seen = name == "escape"   ? &seen_escape
                 : name == "syntax" ? &seen_syntax
                 : name == "check"  ? &seen_check
                                    : nullptr;
    if (seen == nullptr) {
      break; // an unknown directive is a comment and ends the directives
    }
    if (*seen) {
      throw ParseError(diagnostics.file(), pos, fmt::format("only one {} parser directive can be used", name),
                       line);
    }
    *seen = true;
    if (name == "escape") {
      if (value != "\\" && value != "`") {
        throw ParseError(diagnostics.file(), pos, "invalid escape token (must be ` or \\)", line);
      }
      out.escape = value[0];
    } else if (name == "syntax") {
      diagnostics.add(
          Severity::note, pos,
          fmt::format("syntax directive \"{}\" ignored: kiln parses with its built-in front end", value));
    }
    // "# check=" configures BuildKit's linter; kiln has no linter to configure.
  }

  const char escape = out.escape;
  // The directive lines are comments for the instruction pass below.
  for (n = 0; n < lines.size(); ++n) {
    const Physical& first = lines[n];
    if (is_comment(first.text)) {
      continue;
    }
    LogicalLine logical;
    logical.first_line = first.number;
    size_t lead = leading_blanks(first.text);
    std::string_view body = first.text.substr(lead);
    auto append = [&](std::string_view piece, const Physical& from, size_t column0) {
      for (size_t i = 0; i < piece.size(); ++i) {
        logical.text += piece[i];
        logical.pos.push_back(SourcePos{from.number, static_cast<uint32_t>(column0 + i + 1)});
      }
    };
    size_t cut = continuation_at(body, escape);
    bool continues = cut != std::string_view::npos;
    append(continues ? body.substr(0, cut) : body, first, lead);
    if (!continues && logical.text.empty()) {
      continue; // a blank line
    }
    std::optional<SourcePos> empty_continuation;
    uint32_t last = first.number;
    while (continues && n + 1 < lines.size()) {
      const Physical& next = lines[++n];
      last = next.number;
      if (is_comment(next.text)) {
        continue;
      }
      if (leading_blanks(next.text) == next.text.size()) {
        if (!empty_continuation) {
          empty_continuation = SourcePos{next.number, 1};
        }
        continue;
      }
      cut = continuation_at(next.text, escape);
      continues = cut != std::string_view::npos;
      append(continues ? next.text.substr(0, cut) : next.text, next, 0);
    }
    logical.pos.push_back(SourcePos{last, logical.pos.empty() ? 1u : logical.pos.back().column + 1});
    logical.last_line = last;
    if (empty_continuation) {
      diagnostics.add(Severity::warning, *empty_continuation,
                      "empty continuation line (a blank line inside a continued instruction; "
                      "future Docker versions may refuse it)");
    }
    if (logical.text.empty()) {
      continue; // only continuation characters and comments
    }

    // ONBUILD RUN/COPY/ADD reads heredocs as its trigger instruction would.
    auto fields = split_fields(logical.text);
    std::string keyword = fields.empty() ? std::string() : to_lower(fields[0].text);
    if (keyword == "onbuild" && fields.size() > 1) {
      keyword = to_lower(fields[1].text);
    }
    if (takes_heredocs(keyword) && logical.text.find("<<") != std::string::npos) {
      ShellWord raw{'\\', Quotes::keep, Escapes::keep, Unset::keep};
      auto words = raw.words(logical.text, no_variables);
      if (words) {
        for (const auto& word : *words) {
          auto doc = heredoc_from_word(word);
          if (!doc) {
            continue;
          }
          bool terminated = false;
          while (n + 1 < lines.size()) {
            const Physical& body_line = lines[++n];
            logical.last_line = body_line.number;
            std::string_view candidate = body_line.text;
            if (doc->chomp) {
              while (!candidate.empty() && candidate.front() == '\t') {
                candidate.remove_prefix(1);
              }
            }
            if (candidate == doc->name) {
              terminated = true;
              break;
            }
            doc->content += body_line.text;
            doc->content += '\n';
          }
          if (!terminated) {
            throw ParseError(diagnostics.file(), logical.at(0),
                             fmt::format("unterminated heredoc: no line \"{}\" before the end of the file",
                                         excerpt(doc->name)),
                             logical.text);
          }
          if (doc->chomp) {
            doc->content = strip_leading_tabs_per_line(doc->content);
          }
          logical.heredocs.push_back(std::move(*doc));
        }
      }
    }
    out.lines.push_back(std::move(logical));
  }
  return out;
}

} // namespace kiln::builder
