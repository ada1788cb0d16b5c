#pragma once

// The word lexer Docker applies to the arguments of the instructions it
// expands: quotes, the escape character and $V, ${V}, ${V:-w}, ${V-w},
// ${V:+w}, ${V+w}, ${V:?w}, ${V?w}, ${V#p}, ${V##p}, ${V%p}, ${V%%p}.
// Written by hand because no library implements the Dockerfile dialect of
// shell words (it is not POSIX: no command substitution, no field splitting
// inside ProcessWord, escapes limited to the escape character).

#include "base/result.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

// Looks a variable up; nullopt when it is unset.
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

enum class Quotes { remove, keep };  // keep: quote characters stay in the result
enum class Escapes { remove, keep }; // keep: the escape character stays too
enum class Unset { empty, keep };    // keep: an unset $V stays as written

struct ShellWord
{
  char escape = '\\';
  Quotes quotes = Quotes::remove;
  Escapes escapes = Escapes::remove;
  Unset unset = Unset::empty;

  // The whole text as one word (Docker's ProcessWord).
  Result<std::string> word(std::string_view text, const Lookup& lookup) const;
  // The text split into words at unquoted whitespace (Docker's ProcessWords).
  Result<std::vector<std::string>> words(std::string_view text, const Lookup& lookup) const;
};

// A lookup that finds nothing.
std::optional<std::string> no_variables(std::string_view name);

} // namespace kiln::builder
