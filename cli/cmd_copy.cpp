#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/resolve.hpp"

namespace kiln::cli {

int cmd_copy(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv, {});
  args.expect_positional(2, 2, "kiln copy SRC DST");
  auto source = open_source(args.positional()[0]);
  auto destination = unwrap(oci::ImageDestination::open(parse_reference(args.positional()[1])));
  unwrap(oci::copy_blobs(source.layout(), destination.layout(), source.top()));
  oci::Descriptor top = source.top();
  top.annotations.erase(std::string(oci::k_annotation_ref_name));
  unwrap(destination.commit(top));
  fmt::print("{}\n", top.digest.str());
  return 0;
}

} // namespace kiln::cli
