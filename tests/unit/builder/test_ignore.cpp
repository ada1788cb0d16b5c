#include "base/fileio.hpp"
#include "builder/ignore.hpp"

#include <doctest/doctest.h>
#include <fstream>

using namespace kiln::builder;

namespace {

IgnoreMatcher matcher(std::string_view text)
{
  auto m = IgnoreMatcher::parse(text);
  REQUIRE_MESSAGE(m.has_value(), m.error());
  return *m;
}

} // namespace

TEST_CASE("clean_path behaves like Go's filepath.Clean")
{
  CHECK(clean_path("") == ".");
  CHECK(clean_path("./a//b/") == "a/b");
  CHECK(clean_path("a/../../b") == "../b");
  CHECK(clean_path("/../a/./b/..") == "/a");
  CHECK(clean_path("/") == "/");
}

TEST_CASE("the reference example: */temp*, */*/temp*, temp?")
{
  auto m = matcher("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
  CHECK(m.excluded("somedir/temporary.txt"));
  CHECK(m.excluded("somedir/temp"));
  CHECK(m.excluded("somedir/subdir/temporary.txt"));
  CHECK(m.excluded("tempa"));
  CHECK(!m.excluded("temp"));
  CHECK(!m.excluded("temporary.txt"));
  CHECK(!m.excluded("a/b/c/temp.txt"));
}

TEST_CASE("leading and trailing slashes are cleaned away; a directory pattern covers its contents")
{
  auto m = matcher("/build/\n./dist\nnode_modules\n");
  CHECK(m.excluded("build"));
  CHECK(m.excluded("build/out/app.o"));
  CHECK(m.excluded("dist/index.js"));
  CHECK(m.excluded("node_modules/x/package.json"));
  CHECK(!m.excluded("src/node_modules/x"));
  CHECK(m.patterns() == std::vector<std::string>{"build", "dist", "node_modules"});
}

TEST_CASE("** crosses any number of directories, including none")
{
  auto m = matcher("**/*.go\n");
  CHECK(m.excluded("main.go"));
  CHECK(m.excluded("a/b/c.go"));
  CHECK(!m.excluded("a/b/c.gox"));
  auto tail = matcher("docs/**\n");
  CHECK(tail.excluded("docs/a/b"));
  CHECK(!tail.excluded("doc"));
  auto mid = matcher("a/**/z\n");
  CHECK(mid.excluded("a/z"));
  CHECK(mid.excluded("a/b/c/z"));
  CHECK(!mid.excluded("b/z"));
  CHECK(matcher("**\n").excluded("anything/at/all"));
}

TEST_CASE("! exceptions re-include, and the last matching line wins")
{
  auto m = matcher("*.md\n!README*.md\nREADME-secret.md\n");
  CHECK(m.excluded("CHANGES.md"));
  CHECK(!m.excluded("README.md"));
  CHECK(m.excluded("README-secret.md"));
  auto m2 = matcher("*.md\nREADME-secret.md\n!README*.md\n");
  CHECK(!m2.excluded("README-secret.md"));
  auto all = matcher("*\n!src\n");
  CHECK(all.excluded("Makefile"));
  CHECK(!all.excluded("src/main.c"));
  CHECK(all.has_exceptions());
}

TEST_CASE("? and * stop at /; classes; escapes")
{
  auto m = matcher("a?c\nx*z\n[0-9]*.log\n[^a]b\nlit\\*eral\n");
  CHECK(m.excluded("abc"));
  CHECK(!m.excluded("a/c"));
  CHECK(m.excluded("xyyz"));
  CHECK(!m.excluded("xy/z"));
  CHECK(m.excluded("7days.log"));
  CHECK(!m.excluded("days.log"));
  CHECK(m.excluded("cb"));
  CHECK(!m.excluded("ab"));
  CHECK(m.excluded("lit\\*eral"));
}

TEST_CASE("comments only in column 1; bad patterns are refused with their line")
{
  auto m = matcher(" #not-a-comment\n# comment\n");
  CHECK(m.excluded("#not-a-comment"));
  CHECK(IgnoreMatcher::parse("ok\n[abc\n").error() ==
        "ignore file line 2: pattern \"[abc\": missing closing ] in character class");
  CHECK(!IgnoreMatcher::parse("!\n").has_value());
  CHECK(!IgnoreMatcher::parse("[z-a]\n").has_value());
}

TEST_CASE(".containerignore is preferred over .dockerignore; --ignorefile over both")
{
  kiln::TempDir dir(std::filesystem::temp_directory_path());
  CHECK(!find_ignore_file(dir.path(), std::nullopt));
  std::ofstream(dir.path() / ".dockerignore") << "a\n";
  CHECK(find_ignore_file(dir.path(), std::nullopt) == dir.path() / ".dockerignore");
  std::ofstream(dir.path() / ".containerignore") << "b\n";
  CHECK(find_ignore_file(dir.path(), std::nullopt) == dir.path() / ".containerignore");
  CHECK(find_ignore_file(dir.path(), std::filesystem::path("/x/ignore")) ==
        std::filesystem::path("/x/ignore"));
  auto loaded = IgnoreMatcher::load(dir.path() / ".containerignore");
  REQUIRE(loaded.has_value());
  CHECK(loaded->excluded("b"));
}
