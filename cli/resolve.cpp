#include "cli/resolve.hpp"

#include <fmt/core.h>

#include "base/strings.hpp"

namespace kiln::cli {

oci::ImageReference parse_reference(std::string_view text)
{
  return unwrap(oci::ImageReference::parse(text));
}

oci::ImageSource open_source(std::string_view text)
{
  return unwrap(oci::ImageSource::open(parse_reference(text)));
}

oci::CompressionOptions compression_option(const Args& args, std::string_view command)
{
  auto options = oci::compression_options(args.get("compression"), args.get("compression-level"));
  if (!options) {
    throw Error(fmt::format("{}: {}", command, options.error()));
  }
  return *options;
}

oci::Platform platform_option(const Args& args)
{
  if (auto text = args.get("platform")) {
    return unwrap(oci::Platform::parse(*text));
  }
  return oci::Platform::host();
}

} // namespace kiln::cli
