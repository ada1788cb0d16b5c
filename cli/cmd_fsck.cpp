#include <fmt/core.h>

#include "base/strings.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/fsck.hpp"

namespace kiln::cli {

int cmd_fsck(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv, {{"gc", Takes::none}});
  args.expect_positional(1, 1, "kiln fsck DIR [--gc]");
  auto layout = unwrap(oci::Layout::open(args.positional()[0]));
  auto report = oci::fsck(layout);
  for (const auto& problem : report.problems) {
    fmt::print(stderr, "kiln: fsck: {}\n", problem);
  }
  if (!report.problems.empty()) {
    fmt::print(stderr, "kiln: fsck \"{}\": {} problem(s) in {} blob(s) checked\n", layout.path().string(),
               report.problems.size(), report.blobs_checked);
    return 1;
  }
  fmt::print("{}: {} blob(s) checked, no problems\n", layout.path().string(), report.blobs_checked);
  if (args.has("gc")) {
    auto gc = unwrap(oci::collect_garbage(layout, report));
    fmt::print("gc: removed {} unreachable blob(s), {}", gc.removed, human_size(gc.bytes));
    if (gc.kept_recent > 0) {
      fmt::print("; kept {} written in the last hour", gc.kept_recent);
    }
    fmt::print("\n");
  }
  return 0;
}

} // namespace kiln::cli
