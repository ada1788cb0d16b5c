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
  oci::CompressionOptions options;
  auto parsed = oci::parse_compression(args.get("compression").value_or("gzip"));
  if (!parsed) {
    throw Error(fmt::format("{}: --compression: {}", command, parsed.error()));
  }
  options.kind = *parsed;
  if (auto level = args.get("compression-level")) {
    auto value = parse_u64(*level);
    if (!value || *value > 99) {
      throw Error(fmt::format("{}: --compression-level takes a number, got \"{}\"", command, *level));
    }
    options.level = static_cast<int>(*value);
  }
  return options;
}

oci::Platform platform_option(const Args& args)
{
  if (auto text = args.get("platform")) {
    return unwrap(oci::Platform::parse(*text));
  }
  return oci::Platform::host();
}

} // namespace kiln::cli
