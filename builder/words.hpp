#pragma once

// How Docker's parser cuts an instruction's text before expansion: leading
// --flags, whitespace-separated fields, quote-aware words for ENV/LABEL/ARG,
// and JSON (exec form) arrays.

#include "base/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

bool is_blank(char c);
std::string_view trim_blanks(std::string_view text);

// A word with the byte offset where it starts in the text it came from.
struct Piece
{
  std::string text;
  size_t offset = 0;
};

// Splits at runs of whitespace; nothing is quoted.
std::vector<Piece> split_fields(std::string_view text);

// Splits ENV/LABEL/ARG text into words at unquoted whitespace, keeping quotes
// and escapes in the words for expansion to remove later.
std::vector<Piece> split_quoted_words(std::string_view text, char escape);

// Leading "--name[=value]" words of an instruction: quotes removed, a
// backslash escapes the next character, "--" alone ends them.
struct LeadingFlags
{
  std::vector<Piece> flags; // without the leading "--"
  size_t rest_offset = 0;   // where the arguments start
};
LeadingFlags extract_flags(std::string_view text);

// The exec form: a JSON array of strings. nullopt when the text is not JSON
// at all (Docker then takes it as shell form); an error when it is a JSON
// array holding something other than strings.
Result<std::optional<std::vector<std::string>>> parse_json_array(std::string_view text);

} // namespace kiln::builder
