#include "base/error.hpp"
#include "builder/diagnostic.hpp"
#include "builder/ignore.hpp"
#include "builder/modeljson.hpp"
#include "builder/parser.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"

#include <filesystem>
#include <fmt/core.h>

namespace kiln::cli {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_usage =
    "usage: kiln parse [-f FILE] [--build-arg K=V]... [--target T] [--ignorefile F] [--platform P] --json "
    "[CONTEXT]\n";

// -f FILE, else CONTEXT/Containerfile, else CONTEXT/Dockerfile.
fs::path containerfile_path(const Args& args, const fs::path& context)
{
  if (auto file = args.get("file")) {
    return *file;
  }
  std::error_code ec;
  if (fs::exists(context / "Containerfile", ec)) {
    return context / "Containerfile";
  }
  return context / "Dockerfile";
}

} // namespace

int cmd_parse(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args("parse", argv,
            {{"file", Takes::value, 'f'},
             {"build-arg"},
             {"target"},
             {"ignorefile"},
             {"platform"},
             {"json", Takes::none}});
  args.expect_positional(0, 1, k_usage);
  fs::path context = args.positional().empty() ? fs::path(".") : fs::path(args.positional()[0]);
  fs::path file = containerfile_path(args, context);

  builder::ParseOptions options;
  options.file = file.string();
  options.target = args.get("target");
  for (const auto& kv : args.all("build-arg")) {
    size_t eq = kv.find('=');
    if (eq == 0) {
      throw Error(fmt::format("kiln parse: --build-arg \"{}\": expected NAME=VALUE", kv), 2);
    }
    if (eq == std::string::npos) {
      // Docker takes "--build-arg NAME" from the caller's environment.
      const char* value = std::getenv(kv.c_str());
      if (value != nullptr) {
        options.build_args.emplace_back(kv, value);
      }
      continue;
    }
    options.build_args.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (auto platform = args.get("platform")) {
    auto parsed = builder::Platform::parse(*platform);
    if (!parsed) {
      throw Error(fmt::format("kiln parse: --platform: {}", parsed.error()), 2);
    }
    options.target_platform = *parsed;
  }

  std::optional<fs::path> explicit_ignore;
  if (auto f = args.get("ignorefile")) {
    explicit_ignore = fs::path(*f);
  }
  std::optional<builder::IgnoreMatcher> matcher;
  auto ignore_file = builder::find_ignore_file(context, explicit_ignore);
  if (ignore_file) {
    auto loaded = builder::IgnoreMatcher::load(*ignore_file);
    if (!loaded) {
      throw Error(fmt::format("parse: {}", loaded.error()));
    }
    matcher = std::move(*loaded);
  }

  builder::Build build;
  try {
    build = builder::parse_file(file, options);
  } catch (const builder::ParseError& e) {
    throw Error(fmt::format("parse: {}", e.what()));
  }
  for (const auto& d : build.diagnostics) {
    fmt::print(stderr, "kiln: {}\n", d.format());
  }
  if (args.has("json")) {
    auto j = builder::to_json(build);
    if (ignore_file) {
      j["ignore"] = {{"file", ignore_file->string()}, {"patterns", matcher->patterns()}};
    }
    // A Containerfile need not be UTF-8; JSON must be, so bad bytes print as U+FFFD.
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  for (const auto& stage : build.stages) {
    fmt::print("stage {}{}{}: {} steps{}\n", stage.index, stage.name.empty() ? "" : " ", stage.name,
               stage.steps.size(),
               stage.index == build.target ? " (target)"
               : stage.needed              ? ""
                                           : " (skipped)");
  }
  return 0;
}

} // namespace kiln::cli
