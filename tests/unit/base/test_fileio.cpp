#include <doctest/doctest.h>

#include <filesystem>

#include <sys/stat.h>

#include "base/fileio.hpp"

using namespace kiln;
namespace fs = std::filesystem;

TEST_CASE("write_file_atomic replaces content and leaves no temporary file")
{
  TempDir dir(fs::temp_directory_path());
  fs::path target = dir.path() / "file";
  REQUIRE(write_file_atomic(target, "one"));
  REQUIRE(write_file_atomic(target, "two"));
  CHECK(read_file(target).value() == "two");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) {
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("write_file_atomic into a missing directory fails with the path")
{
  TempDir dir(fs::temp_directory_path());
  auto result = write_file_atomic(dir.path() / "missing" / "file", "x");
  REQUIRE_FALSE(result);
  CHECK(result.error().find("missing") != std::string::npos);
}

TEST_CASE("read_file names the path on failure")
{
  auto result = read_file("/nonexistent/kiln-test");
  REQUIRE_FALSE(result);
  CHECK(result.error().find("/nonexistent/kiln-test") != std::string::npos);
}

TEST_CASE("TempDir removes read-only trees")
{
  fs::path kept;
  {
    TempDir dir(fs::temp_directory_path());
    kept = dir.path();
    fs::create_directories(kept / "a" / "b");
    ::chmod((kept / "a").c_str(), 0555);
  }
  CHECK_FALSE(fs::exists(kept));
}
