#pragma once

// Turning command-line words into the objects commands work on, with
// failures as kiln::Error (one line for the user).

#include <string_view>

#include "base/error.hpp"
#include "cli/args.hpp"
#include "oci/compression.hpp"
#include "oci/transport.hpp"

namespace kiln::cli {

template<typename T> T unwrap(Result<T> result)
{
  if (!result) {
    throw Error(result.error());
  }
  return std::move(*result);
}

inline void unwrap(Result<void> result)
{
  if (!result) {
    throw Error(result.error());
  }
}

oci::ImageReference parse_reference(std::string_view text);
oci::ImageSource open_source(std::string_view text);
// --compression none|gzip|zstd and --compression-level N.
oci::CompressionOptions compression_option(const Args& args, std::string_view command);
// --platform, or the host's.
oci::Platform platform_option(const Args& args);

} // namespace kiln::cli
