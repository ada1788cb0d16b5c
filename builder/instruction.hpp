#pragma once

// One instruction of a stage -> one Step (internal to builder::parse).

#include "builder/diagnostic.hpp"
#include "builder/lexer.hpp"
#include "builder/parser.hpp"
#include "builder/scope.hpp"
#include "builder/shellword.hpp"
#include "builder/words.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

// What parse() shares with each instruction it hands over.
class ParseContext
{
public:
  ParseContext(const ParseOptions& options, Diagnostics& diagnostics, char escape);

  const ParseOptions& options;
  Diagnostics& diagnostics;
  char escape;
  EnvList automatic;                 // the platform args
  std::vector<KeyValue> global_args; // ARGs before the first FROM, resolved

  const std::string& file() const { return diagnostics.file(); }
  // A --build-arg value (the last one given), marking it consumed.
  std::optional<std::string> build_arg(const std::string& name);
  std::vector<std::string> unconsumed_build_args() const;

  // Expands text as one word with lookup; throws ParseError at pos.
  std::string expand(std::string_view text, SourcePos pos, const Lookup& lookup);

  [[noreturn]] void error(SourcePos pos, std::string reason, std::string_view text) const;

private:
  std::vector<std::string> m_consumed;
  size_t m_expanded_bytes = 0;
};

// The instruction word and the flags that lead an instruction's text.
struct Head
{
  std::string keyword; // lower case
  size_t keyword_offset = 0;
  std::vector<Piece> flags; // offsets into line.text
  size_t rest_offset = 0;   // arguments start here in line.text
  std::string_view rest;    // trimmed arguments
};

Head split_head(const LogicalLine& line);

bool is_known_instruction(std::string_view keyword_lower);

// Parses a stage instruction (anything but FROM), expanding with scope and
// updating it for ENV and ARG.
Step parse_step(const LogicalLine& line, const Head& head, ParseContext& context, Scope& scope);

// Parses "ARG k[=v] ..." (before FROM or inside a stage): the pairs with
// their values resolved (--build-arg, then default, then inherited).
std::vector<KeyValue> parse_arg_pairs(const LogicalLine& line, const Head& head, ParseContext& context,
                                      const Lookup& lookup);

} // namespace kiln::builder
