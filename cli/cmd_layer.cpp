#include <cerrno>
#include <cstdio>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/layer_apply.hpp"
#include "oci/layer_writer.hpp"
#include "oci/tree_walk.hpp"

namespace fs = std::filesystem;

namespace kiln::cli {

namespace {

constexpr std::string_view k_usage = "kiln layer pack DIR FILE [--compression none|gzip|zstd] "
                                     "[--compression-level N] [--overlay]\n"
                                     "       kiln layer apply FILE DIR [--diff-id DIGEST] [--ownership FILE]";

int pack(const Args& args)
{
  const fs::path dir = args.positional()[1];
  const fs::path out = args.positional()[2];
  oci::LayerWriteOptions options;
  auto compression = oci::compression_options(args.get("compression"), args.get("compression-level"));
  if (!compression) {
    throw Error(fmt::format("layer pack: {}", compression.error()));
  }
  options.compression = *compression;
  options.source_date_epoch = unwrap(oci::source_date_epoch_from_env());
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd) {
    throw Error(fmt::format("layer pack: open directory \"{}\": {}", dir.string(), errno_text(errno)));
  }
  // Written beside its final name and renamed, so a failure leaves nothing.
  fs::path temp = out.string() + ".tmp-" + unique_suffix();
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    throw Error(fmt::format("layer pack: create \"{}\": {}", temp.string(), errno_text(errno)));
  }
  oci::FdSink sink(fd.get());
  // Streamed: the walk hands entries over in layer order, so memory does not
  // grow with the number of files.
  auto mode = args.has("overlay") ? oci::WalkMode::overlay_upper : oci::WalkMode::plain;
  auto result = oci::write_layer_tree(dir_fd.get(), mode, options, sink);
  if (!result || ::rename(temp.c_str(), out.c_str()) != 0) {
    std::string why = result ? errno_text(errno) : result.error();
    ::unlink(temp.c_str());
    throw Error(fmt::format("layer pack \"{}\": {}", dir.string(), why));
  }
  nlohmann::ordered_json summary;
  summary["mediaType"] = result->media_type;
  summary["digest"] = result->digest.str();
  summary["size"] = result->size;
  summary["diffID"] = result->diff_id.str();
  fmt::print("{}\n", summary.dump());
  return 0;
}

int apply(const Args& args)
{
  const fs::path blob = args.positional()[1];
  const fs::path dir = args.positional()[2];
  oci::ApplyOptions options;
  if (auto diff_id = args.get("diff-id")) {
    options.expected.diff_id = unwrap(oci::Digest::parse(*diff_id));
  }
  options.warn = [](const std::string& line) { fmt::print(stderr, "kiln: warning: {}\n", line); };
  auto result = oci::apply_layer(dir, blob, options);
  if (!result) {
    throw Error(result.error());
  }
  if (auto file = args.get("ownership")) {
    unwrap(write_file_atomic(*file, oci::ownership_json(result->unapplied), Durable::no));
  }
  fmt::print("{}\n", result->diff_id.str());
  return 0;
}

} // namespace

int cmd_layer(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv,
            {{"compression"}, {"compression-level"}, {"overlay", Takes::none}, {"diff-id"}, {"ownership"}});
  args.expect_positional(3, 3, k_usage);
  const auto& verb = args.positional()[0];
  if (verb == "pack") {
    return pack(args);
  }
  if (verb == "apply") {
    return apply(args);
  }
  throw Error(fmt::format("layer: unknown action \"{}\" (usage: {})", verb, k_usage));
}

} // namespace kiln::cli
