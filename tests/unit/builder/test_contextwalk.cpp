#include "base/fileio.hpp"
#include "builder/contextwalk.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <unistd.h>

using namespace kiln::builder;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> walk(const fs::path& root, const ContextWalkOptions& options)
{
  std::vector<std::string> seen;
  auto result = walk_context(root, options, [&](const ContextEntry& e) { seen.push_back(e.path); });
  REQUIRE_MESSAGE(result.has_value(), result.error());
  return seen;
}

} // namespace

TEST_CASE("the walk is sorted, skips excluded entries and keeps the Containerfile and ignore file")
{
  kiln::TempDir dir(fs::temp_directory_path());
  const fs::path& root = dir.path();
  fs::create_directories(root / "src/sub");
  fs::create_directories(root / "node_modules/pkg");
  std::ofstream(root / "src/b.c") << "b";
  std::ofstream(root / "src/a.c") << "a";
  std::ofstream(root / "src/sub/notes.md") << "n";
  std::ofstream(root / "node_modules/pkg/index.js") << "x";
  std::ofstream(root / "Containerfile") << "FROM a\n";
  std::ofstream(root / ".containerignore") << "*\n!src\nsrc/**/*.md\n";
  REQUIRE(symlink("/etc/passwd", (root / "src/link").c_str()) == 0);

  auto matcher = IgnoreMatcher::load(root / ".containerignore");
  REQUIRE(matcher.has_value());
  ContextWalkOptions options{&*matcher, {"Containerfile", ".containerignore"}};
  CHECK(walk(root, options) == std::vector<std::string>{".containerignore", "Containerfile", "src", "src/a.c",
                                                        "src/b.c", "src/link", "src/sub"});
}

TEST_CASE("without a matcher everything is visited; symlinks are reported, not followed")
{
  kiln::TempDir dir(fs::temp_directory_path());
  fs::create_directories(dir.path() / "d");
  REQUIRE(symlink(".", (dir.path() / "d/loop").c_str()) == 0);
  std::vector<ContextEntry> entries;
  auto result = walk_context(dir.path(), {}, [&](const ContextEntry& e) { entries.push_back(e); });
  REQUIRE(result.has_value());
  REQUIRE(entries.size() == 2);
  CHECK(entries[1].path == "d/loop");
  CHECK(S_ISLNK(entries[1].st.st_mode));
}

TEST_CASE("an excluded directory without exceptions is not entered")
{
  kiln::TempDir dir(fs::temp_directory_path());
  fs::create_directories(dir.path() / "skip/deep");
  auto matcher = IgnoreMatcher::parse("skip\n");
  REQUIRE(matcher.has_value());
  ContextWalkOptions options{&*matcher, {}};
  CHECK(walk(dir.path(), options).empty());
}

TEST_CASE("a missing context is an error naming it")
{
  auto result = walk_context("/nonexistent/kiln-context", {}, [](const ContextEntry&) {});
  REQUIRE(!result.has_value());
  CHECK(result.error().find("/nonexistent/kiln-context") != std::string::npos);
}

TEST_CASE("always_included keeps the Containerfile and ignore file when they are inside the context")
{
  kiln::TempDir dir(fs::temp_directory_path());
  fs::create_directories(dir.path() / "sub");
  auto kept = always_included(dir.path(), dir.path() / "sub/Containerfile", dir.path() / ".dockerignore");
  CHECK(kept == std::vector<std::string>{"sub/Containerfile", ".dockerignore"});
  CHECK(always_included(dir.path(), "/elsewhere/Containerfile", std::nullopt).empty());
}
