#pragma once

// builder::parse: Containerfile text -> the typed model (builder/model.hpp).
// Reads nothing but the text it is given; the caller reads the file.

#include "builder/diagnostic.hpp"
#include "builder/model.hpp"
#include "builder/scope.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::builder {

// The environment of an external base image, so that "ENV PATH=/x:$PATH"
// expands as Docker expands it. The engine supplies it once the base is
// pulled; without it (kiln parse) the base image's ENV is taken as empty.
using BaseEnv = std::function<std::optional<EnvList>(const std::string& image)>;

struct ParseOptions
{
  std::string file = "Containerfile"; // the name errors and source ranges carry
  EnvList build_args;                 // --build-arg K=V, later ones win
  std::optional<std::string> target;  // --target
  Platform target_platform;           // linux/amd64 unless told
  Platform build_platform;            // linux/amd64 unless told
  BaseEnv base_env;
};

// Throws ParseError (FILE:LINE:COL: reason: text) or kiln::Error.
Build parse(std::string_view text, const ParseOptions& options);

// Reads path and parses it; options.file names it in messages.
Build parse_file(const std::filesystem::path& path, const ParseOptions& options);

} // namespace kiln::builder
