#include "cli/resolve.hpp"

namespace kiln::cli {

oci::ImageReference parse_reference(std::string_view text)
{
  return unwrap(oci::ImageReference::parse(text));
}

oci::ImageSource open_source(std::string_view text)
{
  return unwrap(oci::ImageSource::open(parse_reference(text)));
}

oci::Platform platform_option(const Args& args)
{
  if (auto text = args.get("platform")) {
    return unwrap(oci::Platform::parse(*text));
  }
  return oci::Platform::host();
}

} // namespace kiln::cli
