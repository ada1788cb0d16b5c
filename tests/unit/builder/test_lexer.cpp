#include "builder/lexer.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

namespace {

Lexed lex_text(std::string_view text)
{
  Diagnostics diagnostics("Containerfile");
  return lex(text, diagnostics);
}

} // namespace

TEST_CASE("continuations join lines and keep each byte's position")
{
  Lexed lexed = lex_text("FROM a\n  RUN x \\\n   y\n");
  REQUIRE(lexed.lines.size() == 2);
  const auto& run = lexed.lines[1];
  CHECK(run.text == "RUN x    y");
  CHECK(run.first_line == 2);
  CHECK(run.last_line == 3);
  CHECK(run.at(0).line == 2);
  CHECK(run.at(0).column == 3);
  CHECK(run.at(9).line == 3);
  CHECK(run.at(9).column == 4);
}

TEST_CASE("a continuation that reaches the end of the file ends the instruction")
{
  Lexed lexed = lex_text("FROM a\nRUN x \\");
  REQUIRE(lexed.lines.size() == 2);
  CHECK(lexed.lines[1].text == "RUN x ");
}

TEST_CASE("directives: escape changes the continuation character; unknown ones end the directives")
{
  CHECK(lex_text("# escape=`\nFROM a\nRUN x `\ny\n").lines[1].text == "RUN x y");
  CHECK(lex_text("# foo=bar\n# escape=`\nFROM a\n").escape == '\\');
  CHECK_THROWS_AS(lex_text("# escape=\\\n# ESCAPE=`\n"), ParseError);
}

TEST_CASE("heredocs: bodies, <<- and quoted delimiters")
{
  Lexed lexed = lex_text("FROM a\nRUN <<-\"EOT\" cat\n\tbody $X\n\tEOT\nRUN done\n");
  REQUIRE(lexed.lines.size() == 3);
  REQUIRE(lexed.lines[1].heredocs.size() == 1);
  const Heredoc& doc = lexed.lines[1].heredocs[0];
  CHECK(doc.name == "EOT");
  CHECK(doc.content == "body $X\n");
  CHECK(doc.chomp);
  CHECK(!doc.expand);
  CHECK(lexed.lines[1].last_line == 4);
  CHECK(lexed.lines[2].text == "RUN done");
}

TEST_CASE("heredocs are only read for RUN, COPY and ADD")
{
  Lexed lexed = lex_text("FROM a\nLABEL x=<<EOF\nRUN y\n");
  CHECK(lexed.lines.size() == 3);
  CHECK(lexed.lines[1].heredocs.empty());
}

TEST_CASE("an unterminated heredoc is an error naming the delimiter")
{
  try {
    lex_text("FROM a\nCOPY <<DATA /x\nline\n");
    FAIL("no error");
  } catch (const ParseError& e) {
    CHECK(std::string(e.what()) ==
          "Containerfile:2:1: unterminated heredoc: no line \"DATA\" before the end of the "
          "file: COPY <<DATA /x");
  }
}

TEST_CASE("an empty continuation line warns once")
{
  Diagnostics diagnostics("Containerfile");
  lex("FROM a\nRUN a \\\n\n  b \\\n\n  c\n", diagnostics);
  auto items = diagnostics.take();
  REQUIRE(items.size() == 1);
  CHECK(items[0].line == 3);
}
