// Runs every Containerfile under tests/fixtures/containerfiles/ through
// builder::parse and compares the model (NAME.expected.json) or the error
// (NAME.expected-error) written beside it from the Dockerfile reference.
//
// NAME.args, when present, holds options one per line: "build-arg K=V",
// "target T", "platform OS/ARCH". Expected JSON may leave out "escape"
// (default "\\"), "args" (default []) and a stage's "needed" (default true);
// its "rule" member names the rule the fixture pins down.

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "builder/modeljson.hpp"
#include "builder/parser.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace kiln::builder;

namespace {

fs::path fixtures_dir()
{
  return fs::path(KILN_FIXTURES_DIR);
}

std::string slurp(const fs::path& path)
{
  auto text = kiln::read_file(path);
  REQUIRE_MESSAGE(text.has_value(), text.error());
  return *text;
}

ParseOptions options_for(const fs::path& args_file)
{
  ParseOptions options;
  options.file = "Containerfile";
  if (!fs::exists(args_file)) {
    return options;
  }
  std::string text = slurp(args_file);
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    size_t space = line.find(' ');
    std::string key = line.substr(0, space);
    std::string value = space == std::string::npos ? "" : line.substr(space + 1);
    if (key == "build-arg") {
      size_t eq = value.find('=');
      options.build_args.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (key == "target") {
      options.target = value;
    } else if (key == "platform") {
      options.target_platform = *Platform::parse(value);
    } else {
      FAIL("unknown option in " << args_file << ": " << line);
    }
  }
  return options;
}

nlohmann::json with_defaults(nlohmann::json expected)
{
  expected.erase("rule");
  if (!expected.contains("escape")) {
    expected["escape"] = "\\";
  }
  if (!expected.contains("args")) {
    expected["args"] = nlohmann::json::array();
  }
  for (auto& stage : expected["stages"]) {
    if (!stage.contains("needed")) {
      stage["needed"] = true;
    }
  }
  return expected;
}

std::vector<fs::path> fixtures()
{
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(fixtures_dir())) {
    if (entry.path().extension() == ".Containerfile") {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("the fixture corpus holds at least 60 Containerfiles, each with an expectation")
{
  auto files = fixtures();
  CHECK(files.size() >= 60);
  for (const auto& file : files) {
    fs::path stem = file.parent_path() / file.stem();
    bool has_json = fs::exists(stem.string() + ".expected.json");
    bool has_error = fs::exists(stem.string() + ".expected-error");
    CHECK_MESSAGE(has_json != has_error, file.filename().string() << ": needs exactly one expectation");
  }
}

TEST_CASE("every fixture parses to its expected model or fails with its expected error")
{
  for (const auto& file : fixtures()) {
    std::string name = file.stem().string();
    CAPTURE(name);
    fs::path stem = file.parent_path() / name;
    std::string text = slurp(file);
    ParseOptions options = options_for(stem.string() + ".args");
    fs::path error_file = stem.string() + ".expected-error";
    if (fs::exists(error_file)) {
      std::string expected = slurp(error_file);
      CHECK_MESSAGE(expected.starts_with("# rule: "), name << ": the error file names its rule first");
      expected = expected.substr(expected.find('\n') + 1);
      while (!expected.empty() && expected.back() == '\n') {
        expected.pop_back();
      }
      std::string actual = "(no error)";
      try {
        parse(text, options);
      } catch (const kiln::Error& e) {
        actual = e.what();
      }
      CHECK(actual == expected);
      continue;
    }
    auto raw = nlohmann::json::parse(slurp(stem.string() + ".expected.json"));
    CHECK_MESSAGE(raw.contains("rule"), name << ": the expected model names its rule");
    nlohmann::json expected = with_defaults(raw);
    nlohmann::json actual;
    try {
      actual = nlohmann::json::parse(to_json(parse(text, options)).dump());
    } catch (const kiln::Error& e) {
      actual = std::string("error: ") + e.what();
    }
    if (actual != expected) {
      MESSAGE("diff (expected -> actual): " << nlohmann::json::diff(expected, actual).dump());
    }
    CHECK(actual == expected);
  }
}
