#pragma once

// The first pass over a Containerfile, as Docker's parser makes it: parser
// directives, a UTF-8 BOM, CRLF, comments, continuation lines (comments and
// blank lines inside them skipped) and heredoc bodies, yielding one logical
// line per instruction with the physical position of each of its bytes.

#include "builder/diagnostic.hpp"
#include "builder/model.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

struct LogicalLine
{
  std::string text;           // continuations joined, escape characters removed
  std::vector<SourcePos> pos; // pos[i] is where text[i] came from; one extra for the end
  uint32_t first_line = 0;
  uint32_t last_line = 0; // heredoc bodies included
  std::vector<Heredoc> heredocs;

  SourcePos at(size_t offset) const { return pos[offset < pos.size() ? offset : pos.size() - 1]; }
};

struct Lexed
{
  char escape = '\\';
  std::vector<LogicalLine> lines;
};

// Throws ParseError for a bad directive or an unterminated heredoc; notes and
// warnings go to diagnostics.
Lexed lex(std::string_view text, Diagnostics& diagnostics);

// Whether word opens a heredoc ([N]<<[-]NAME, NAME possibly quoted).
bool is_heredoc_word(std::string_view word);

// Instructions whose line may open heredocs.
bool takes_heredocs(std::string_view instruction_lower);

} // namespace kiln::builder
