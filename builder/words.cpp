#include "builder/words.hpp"

#include <nlohmann/json.hpp>

namespace kiln::builder {

bool is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view trim_blanks(std::string_view text)
{
  while (!text.empty() && is_blank(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_blank(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<Piece> split_fields(std::string_view text)
{
  std::vector<Piece> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) {
      ++i;
    }
    size_t start = i;
    while (i < text.size() && !is_blank(text[i])) {
      ++i;
    }
    if (i > start) {
      out.push_back(Piece{std::string(text.substr(start, i - start)), start});
    }
  }
  return out;
}

std::vector<Piece> split_quoted_words(std::string_view text, char escape)
{
  std::vector<Piece> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_blank(text[i])) {
      ++i;
    }
    if (i >= text.size()) {
      break;
    }
    Piece piece{{}, i};
    bool quoted = false; // a word made only of "" is still a word
    char quote = 0;
    while (i < text.size()) {
      char c = text[i];
      if (quote == 0) {
        if (is_blank(c)) {
          break;
        }
        if (c == '\'' || c == '"') {
          quote = c;
          quoted = true;
        } else if (c == escape) {
          if (i + 1 == text.size()) {
            ++i; // an escape at the very end is dropped
            continue;
          }
          piece.text += c;
          ++i;
          c = text[i];
        }
        piece.text += c;
        ++i;
        continue;
      }
      if (c == quote) {
        quote = 0;
      } else if (c == escape && quote != '\'') {
        if (i + 1 == text.size()) {
          quote = 0;
          ++i;
          continue;
        }
        piece.text += c;
        ++i;
        c = text[i];
      }
      piece.text += c;
      ++i;
    }
    if (quoted || !piece.text.empty()) {
      out.push_back(std::move(piece));
    }
  }
  return out;
}

LeadingFlags extract_flags(std::string_view text)
{
  LeadingFlags result;
  size_t i = 0;
  for (;;) {
    while (i < text.size() && is_blank(text[i])) {
      ++i;
    }
    if (i + 1 >= text.size() || text[i] != '-' || text[i + 1] != '-') {
      result.rest_offset = i;
      return result;
    }
    Piece piece{{}, i};
    char quote = 0;
    while (i < text.size()) {
      char c = text[i];
      if (quote == 0 && is_blank(c)) {
        break;
      }
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
        ++i;
        continue;
      }
      if (quote != 0 && c == quote) {
        quote = 0;
        ++i;
        continue;
      }
      if (c == '\\') {
        if (i + 1 == text.size()) {
          ++i;
          quote = 0;
          continue;
        }
        ++i;
        c = text[i];
      }
      piece.text += c;
      ++i;
    }
    if (piece.text == "--") {
      result.rest_offset = i;
      return result;
    }
    piece.text.erase(0, 2);
    result.flags.push_back(std::move(piece));
  }
}

Result<std::optional<std::vector<std::string>>> parse_json_array(std::string_view text)
{
  text = trim_blanks(text);
  if (text.empty() || text.front() != '[') {
    return std::optional<std::vector<std::string>>();
  }
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return std::optional<std::vector<std::string>>();
  }
  std::vector<std::string> out;
  for (const auto& item : parsed) {
    if (!item.is_string()) {
      return fail("when using JSON array syntax, arrays must be comprised of strings only");
    }
    out.push_back(item.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

} // namespace kiln::builder
