#include "builder/shellword.hpp"

#include <doctest/doctest.h>
#include <map>

using namespace kiln::builder;

namespace {

Lookup vars(std::map<std::string, std::string, std::less<>> values)
{
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

std::string word(std::string_view text, const Lookup& lookup, char escape = '\\')
{
  ShellWord shell{escape};
  auto result = shell.word(text, lookup);
  REQUIRE_MESSAGE(result.has_value(), result.error());
  return *result;
}

std::string word_error(std::string_view text)
{
  ShellWord shell;
  auto result = shell.word(text, no_variables);
  REQUIRE(!result.has_value());
  return result.error();
}

} // namespace

TEST_CASE("$V and ${V} expand; an unset variable is empty")
{
  auto v = vars({{"A", "1"}, {"B_2", "two"}});
  CHECK(word("$A-${A}x", v) == "1-1x");
  CHECK(word("$B_2/$UNSET/end", v) == "two//end");
  CHECK(word("cost: $", v) == "cost: $");
  CHECK(word("$ A", v) == "$ A");
}

TEST_CASE("names take Unicode letters, as Go's unicode.IsLetter does, but not punctuation")
{
  auto v = vars({{"caf\xC3\xA9", "coffee"}, {"X", "x"}});
  CHECK(word("$caf\xC3\xA9!", v) == "coffee!");
  CHECK(word("$X\xE2\x80\xA6", v) == "x\xE2\x80\xA6");
  CHECK(word("$X\xC3", v) == "x\xC3");
}

TEST_CASE("the modifiers distinguish unset from empty as the reference says")
{
  auto v = vars({{"SET", "x"}, {"EMPTY", ""}});
  CHECK(word("${SET:-d}${EMPTY:-d}${NO:-d}", v) == "xdd");
  CHECK(word("${SET-d}${EMPTY-d}${NO-d}", v) == "xd");
  CHECK(word("${SET:+w}${EMPTY:+w}${NO:+w}", v) == "w");
  CHECK(word("${SET+w}${EMPTY+w}${NO+w}", v) == "ww");
  CHECK(word("${NO:-${SET}/$SET}", v) == "x/x");
  CHECK(word("${NO:-\"a b\"}", v) == "a b");
}

TEST_CASE("${V?msg} fails on unset, ${V:?} also on empty")
{
  auto v = vars({{"EMPTY", ""}});
  ShellWord shell;
  CHECK(shell.word("${EMPTY?}", v).value() == "");
  CHECK(shell.word("${NO?must be set}", v).error() == "NO: must be set");
  CHECK(shell.word("${EMPTY:?}", v).error() == "EMPTY: is not allowed to be empty");
}

TEST_CASE("# and % trim the shortest or longest matching prefix or suffix")
{
  auto v = vars({{"F", "archive.tar.gz"}});
  CHECK(word("${F%.*}", v) == "archive.tar");
  CHECK(word("${F%%.*}", v) == "archive");
  CHECK(word("${F#*.}", v) == "tar.gz");
  CHECK(word("${F##*.}", v) == "gz");
  CHECK(word("${F#nomatch}", v) == "archive.tar.gz");
  CHECK(word("${F#a?c}", v) == "hive.tar.gz");
  auto stars = vars({{"S", "a*b*"}});
  CHECK(word("${S%\\*}", stars) == "a*b");
  CHECK(word("${S##*\\*}", stars) == "");
}

TEST_CASE("escapes and quotes")
{
  auto v = vars({{"FOO", "/bar"}});
  CHECK(word("\\$FOO \\${FOO}", v) == "$FOO ${FOO}");
  CHECK(word("'$FOO'", v) == "$FOO");
  CHECK(word("\"$FOO \\$FOO \\\" \\n\"", v) == "/bar $FOO \" \\n");
  CHECK(word("a\\ b", v) == "a b");
  CHECK(word("trailing\\", v) == "trailing");
  CHECK(word("`$FOO C:\\x", v, '`') == "$FOO C:\\x");
}

TEST_CASE("malformed words are refused with Docker's reasons")
{
  CHECK(word_error("${") == "syntax error: missing '}'");
  CHECK(word_error("${}") == "syntax error: bad substitution");
  CHECK(word_error("${:a}") == "syntax error: bad substitution");
  CHECK(word_error("${A") == "syntax error: missing '}'");
  CHECK(word_error("${A:-x") == "syntax error: missing '}'");
  CHECK(word_error("${A^}") == "unsupported modifier (^) in substitution");
  CHECK(word_error("${A:=x}") == "unsupported modifier (:=) in substitution");
  CHECK(word_error("'open") == "unexpected end of statement while looking for matching single-quote");
  CHECK(word_error("\"open") == "unexpected end of statement while looking for matching double-quote");
}

TEST_CASE("words() splits at unquoted whitespace, also inside expansions")
{
  ShellWord shell;
  auto v = vars({{"L", "a  b"}});
  CHECK(shell.words("x \"y z\" $L ''", v).value() == std::vector<std::string>{"x", "y z", "a", "b", ""});
}

TEST_CASE("keep modes leave quotes, escapes and unset variables as written")
{
  ShellWord raw{'\\', Quotes::keep, Escapes::keep, Unset::keep};
  CHECK(raw.word("\"a\" 'b' \\$X $Y ${Z}", no_variables).value() == "\"a\" 'b' \\$X $Y ${Z}");
}

TEST_CASE("expansion is bounded: deep nesting and runaway growth fail cleanly")
{
  std::string deep;
  for (int i = 0; i < 500; ++i) {
    deep += "${A:-";
  }
  CHECK(word_error(deep) == "syntax error: substitutions nested too deeply");
  std::string big(600 * 1024, 'x');
  auto v = vars({{"B", big}});
  ShellWord shell;
  CHECK(shell.word("$B$B", v).error() == "expanded value exceeds 1 MiB");
}
