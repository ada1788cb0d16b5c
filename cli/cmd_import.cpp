#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/core.h>

#include "base/strings.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/assemble.hpp"
#include "oci/layer_writer.hpp"
#include "oci/tar_entries.hpp"
#include "oci/tree_walk.hpp"

namespace fs = std::filesystem;

namespace kiln::cli {

namespace {

// --entrypoint and --cmd take Docker's exec form: a JSON array of strings.
std::vector<std::string> exec_form(std::string_view option, const std::string& text)
{
  auto json = oci::parse_json(text, fmt::format("--{}", option));
  bool ok = json && json->is_array();
  if (ok) {
    for (const auto& item : *json) {
      ok = ok && item.is_string();
    }
  }
  if (!ok) {
    throw Error(fmt::format("import: --{} takes a JSON array of strings (exec form), e.g. "
                            "--{} '[\"/usr/bin/python3.11\", \"-m\", \"app\"]'; got: {}",
                            option, option, text));
  }
  return json->get<std::vector<std::string>>();
}

std::pair<std::string, std::string> key_value(std::string_view option, const std::string& text)
{
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error(fmt::format("import: --{} takes KEY=VALUE, got \"{}\"", option, text));
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// --config-json: a whole image config (its rootfs and history are replaced)
// or just the container config object ({"Entrypoint": ..., "Env": ...}).
oci::ImageConfig base_config(const std::optional<std::string>& file, const oci::Platform& platform)
{
  oci::ImageConfig config;
  config.architecture = platform.architecture;
  config.os = platform.os;
  config.variant = platform.variant;
  if (!file) {
    return config;
  }
  std::string text = unwrap(read_file(*file));
  auto json = unwrap(oci::parse_json(text, fmt::format("\"{}\"", *file)));
  if (!json.is_object()) {
    throw Error(fmt::format("import: \"{}\": not a JSON object", *file));
  }
  if (!json.contains("rootfs") && !json.contains("architecture") && !json.contains("config")) {
    json = oci::Json{{"config", json}};
  }
  json["rootfs"] = {{"type", "layers"}, {"diff_ids", oci::Json::array()}};
  json.erase("history");
  if (!json.contains("architecture")) {
    json["architecture"] = platform.architecture;
  }
  if (!json.contains("os")) {
    json["os"] = platform.os;
  }
  auto parsed = oci::ImageConfig::parse(oci::dump_json(json));
  if (!parsed) {
    throw Error(fmt::format("import: \"{}\": {}", *file, parsed.error()));
  }
  return *parsed;
}

} // namespace

int cmd_import(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv,
            {{"tag", Takes::value, 't'},
             {"config-json"},
             {"entrypoint"},
             {"cmd"},
             {"env"},
             {"user"},
             {"workdir"},
             {"label"},
             {"platform"},
             {"compression"},
             {"compression-level"},
             {"quiet", Takes::none, 'q'}});
  args.expect_positional(1, 1, "kiln import ROOTFS.tar|DIR -t REF [options]");
  auto tags = args.all("tag");
  if (tags.empty()) {
    throw Error("import: name the image with -t REF (e.g. -t oci:DIR:TAG or -t NAME:TAG)");
  }
  std::vector<oci::ImageReference> destinations;
  for (const auto& tag : tags) {
    destinations.push_back(parse_reference(tag));
  }
  fs::path input = args.positional()[0];
  std::error_code ec;
  auto status = fs::status(input, ec);
  if (ec || !fs::exists(status)) {
    throw Error(fmt::format("import: \"{}\": no such file or directory", input.string()));
  }

  oci::Platform platform = platform_option(args);
  oci::ImageConfig config = base_config(args.get("config-json"), platform);
  auto epoch = unwrap(oci::source_date_epoch_from_env());
  config.created = oci::image_timestamp(epoch);
  auto& c = config.config;
  if (auto entrypoint = args.get("entrypoint")) {
    c.entrypoint = exec_form("entrypoint", *entrypoint);
  }
  if (auto cmd = args.get("cmd")) {
    c.cmd = exec_form("cmd", *cmd);
  }
  for (const auto& env : args.all("env")) {
    auto [key, value] = key_value("env", env);
    c.set_env(key, value);
  }
  if (!c.env_value("PATH")) {
    c.set_env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  for (const auto& label : args.all("label")) {
    auto [key, value] = key_value("label", label);
    c.labels[key] = value;
  }
  if (auto user = args.get("user")) {
    c.user = *user;
  }
  if (auto workdir = args.get("workdir")) {
    c.working_dir = *workdir;
  }

  oci::LayerWriteOptions layer_options;
  layer_options.compression = compression_option(args, "import");
  layer_options.source_date_epoch = epoch;

  // The layer goes into the first destination's layout; the others copy it.
  auto first = unwrap(oci::ImageDestination::open(destinations.front()));
  TempDir spool(fs::temp_directory_path(), "kiln-import-");
  auto blob = unwrap(first.layout().new_blob());
  oci::LayerResult layer;
  if (fs::is_directory(status)) {
    // A directory streams into the writer: memory does not grow with it.
    Fd dir(::open(input.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) {
      throw Error(fmt::format("import: open \"{}\": {}", input.string(), errno_text(errno)));
    }
    layer = unwrap(oci::write_layer_tree(dir.get(), oci::WalkMode::plain, layer_options, blob));
  } else {
    auto read = unwrap(oci::read_tar_entries(input, spool.path()));
    if (read.skipped > 0) {
      fmt::print(stderr, "kiln: warning: import: skipped {} member(s) of \"{}\" with unsafe names\n", read.skipped,
                 input.string());
    }
    layer = unwrap(oci::write_layer(std::move(read.entries), {}, layer_options, blob));
  }
  oci::Descriptor layer_descriptor = unwrap(blob.commit(layer.media_type));

  config.diff_ids = {layer.diff_id};
  oci::History history;
  history.created = config.created;
  history.created_by = fmt::format("kiln import {}", input.filename().string());
  config.history = {history};
  auto manifest = unwrap(oci::write_image(first.layout(), config, {layer_descriptor}));
  unwrap(first.commit(manifest));
  for (size_t i = 1; i < destinations.size(); ++i) {
    auto destination = unwrap(oci::ImageDestination::open(destinations[i]));
    unwrap(oci::copy_blobs(first.layout(), destination.layout(), manifest));
    unwrap(destination.commit(manifest));
  }
  if (!args.has("quiet")) {
    fmt::print(stderr, "imported {} as {} (layer {}, {})\n", input.string(), destinations.front().str(),
               layer_descriptor.digest.short_str(), human_size(static_cast<uint64_t>(layer_descriptor.size)));
  }
  fmt::print("{}\n", manifest.digest.str());
  return 0;
}

} // namespace kiln::cli
