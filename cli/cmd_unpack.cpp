#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/image.hpp"
#include "oci/layer_apply.hpp"

namespace fs = std::filesystem;

namespace kiln::cli {

namespace {

// The directory must be new or empty: unpacking over an existing tree would
// mix two filesystems.
void check_target(const fs::path& dir)
{
  std::error_code ec;
  auto status = fs::symlink_status(dir, ec);
  if (!fs::exists(status)) {
    return;
  }
  if (!fs::is_directory(status) || !fs::is_empty(dir, ec)) {
    throw Error(fmt::format("unpack into \"{}\": the directory exists and is not empty", dir.string()));
  }
}

} // namespace

int cmd_unpack(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv, {{"platform"}, {"ownership"}});
  args.expect_positional(2, 2, "kiln unpack REF DIR [--platform OS/ARCH] [--ownership FILE]");
  const std::string& ref = args.positional()[0];
  fs::path target = fs::absolute(args.positional()[1]).lexically_normal();
  check_target(target);

  auto source = open_source(ref);
  auto image = unwrap(oci::load_image(source.layout(), source.top(), platform_option(args)));
  const auto& layers = image.manifest.layers;
  const auto& diff_ids = image.config.diff_ids;
  if (layers.size() != diff_ids.size()) {
    throw Error(fmt::format("unpack \"{}\": the manifest lists {} layers but the config {} diff_ids", ref,
                            layers.size(), diff_ids.size()));
  }

  // Layers go into a directory beside the target, renamed into place at the
  // end, so a bad layer leaves no half-unpacked tree.
  fs::path parent = target.parent_path();
  TempDir temp(parent, fmt::format(".{}.kiln-unpack-", target.filename().string()));
  Fd root(::open(temp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ::fchmod(root.get(), 0755);
  std::map<std::string, oci::OwnershipRecord> unapplied;
  oci::ApplyOptions options;
  options.warn = [](const std::string& line) { fmt::print(stderr, "kiln: warning: {}\n", line); };
  for (size_t i = 0; i < layers.size(); ++i) {
    options.expected = {diff_ids[i], layers[i].digest};
    auto blob = unwrap(source.layout().open_blob(layers[i].digest));
    auto applied = oci::apply_layer(root.get(), std::move(blob), layers[i].digest.short_str(), options);
    if (!applied) {
      throw Error(fmt::format("unpack \"{}\": {}", ref, applied.error()));
    }
    for (auto& record : applied->unapplied) {
      unapplied[record.path] = std::move(record);
    }
  }
  std::vector<oci::OwnershipRecord> records;
  for (auto& [path, record] : unapplied) {
    struct stat st;
    // A later layer may have deleted or replaced the path since.
    if (record.skipped || ::fstatat(root.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      records.push_back(std::move(record));
    }
  }

  if (auto file = args.get("ownership")) {
    unwrap(write_file_atomic(*file, oci::ownership_json(records), Durable::no));
  } else if (!records.empty()) {
    fmt::print(stderr,
               "kiln: warning: the owners, devices or xattrs of {} entries could not be applied without "
               "privilege (--ownership FILE records them)\n",
               records.size());
  }
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(target, ec))) {
    fs::remove(target, ec);
  }
  if (::rename(temp.path().c_str(), target.c_str()) != 0) {
    throw Error(fmt::format("unpack \"{}\": rename into \"{}\": {}", ref, target.string(), errno_text(errno)));
  }
  temp.release();
  fmt::print("{}\n", image.descriptor.digest.str());
  return 0;
}

} // namespace kiln::cli
