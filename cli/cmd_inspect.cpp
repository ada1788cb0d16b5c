#include <fmt/core.h>

#include "base/error.hpp"
#include "base/strings.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/image.hpp"
#include "oci/mediatype.hpp"

namespace kiln::cli {

namespace {

void print_list(std::string_view label, const std::vector<std::string>& items)
{
  if (items.empty()) {
    return;
  }
  fmt::print("  {:<12}", label);
  for (size_t i = 0; i < items.size(); ++i) {
    fmt::print("{}{}", i == 0 ? "" : "\n              ", items[i]);
  }
  fmt::print("\n");
}

std::string json_array(const std::optional<std::vector<std::string>>& list)
{
  return list ? oci::dump_json(oci::Json(*list)) : std::string();
}

} // namespace

int cmd_inspect(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv, {{"raw"}, {"platform"}});
  args.expect_positional(1, 1, "kiln inspect REF [--raw manifest|config|index]");
  auto source = open_source(args.positional()[0]);
  oci::Platform platform = platform_option(args);

  if (auto raw = args.get("raw")) {
    if (*raw == "index") {
      if (!oci::mediatype::is_index(source.top().media_type)) {
        throw Error(fmt::format("inspect \"{}\": --raw index: the reference names an image manifest, not an index",
                                args.positional()[0]));
      }
      fmt::print("{}", unwrap(source.layout().read_blob(source.top())));
      return 0;
    }
    auto image = unwrap(oci::load_image(source.layout(), source.top(), platform));
    if (*raw == "manifest") {
      fmt::print("{}", image.manifest_bytes);
    } else if (*raw == "config") {
      fmt::print("{}", image.config_bytes);
    } else {
      throw Error(fmt::format("inspect: --raw takes manifest, config or index, not \"{}\"", *raw));
    }
    return 0;
  }

  auto image = unwrap(oci::load_image(source.layout(), source.top(), platform));
  const auto& config = image.config;
  fmt::print("Image:       {}\n", source.reference().str());
  fmt::print("Digest:      {}\n", image.descriptor.digest.str());
  if (image.index) {
    fmt::print("Index:       {}\n", image.index->digest.str());
  }
  fmt::print("Media type:  {}\n", image.descriptor.media_type.empty() ? image.manifest.media_type
                                                                      : image.descriptor.media_type);
  fmt::print("Platform:    {}\n", config.platform().str());
  if (!config.created.empty()) {
    fmt::print("Created:     {}\n", config.created);
  }
  if (!config.author.empty()) {
    fmt::print("Author:      {}\n", config.author);
  }
  fmt::print("Config:      {} ({})\n", image.manifest.config.digest.str(), human_size(image.manifest.config.size));
  int64_t total = 0;
  fmt::print("Layers:      {}\n", image.manifest.layers.size());
  for (size_t i = 0; i < image.manifest.layers.size(); ++i) {
    const auto& layer = image.manifest.layers[i];
    total += layer.size;
    fmt::print("  {:>3}  {}  {:>10}  {}\n", i + 1, layer.digest.str(), human_size(static_cast<uint64_t>(layer.size)),
               layer.media_type);
  }
  fmt::print("Total size:  {}\n", human_size(static_cast<uint64_t>(total)));
  const auto& c = config.config;
  fmt::print("Container config:\n");
  if (!c.user.empty()) {
    fmt::print("  {:<12}{}\n", "User", c.user);
  }
  if (!c.working_dir.empty()) {
    fmt::print("  {:<12}{}\n", "WorkingDir", c.working_dir);
  }
  if (c.entrypoint) {
    fmt::print("  {:<12}{}\n", "Entrypoint", json_array(c.entrypoint));
  }
  if (c.cmd) {
    fmt::print("  {:<12}{}\n", "Cmd", json_array(c.cmd));
  }
  print_list("Env", c.env);
  print_list("ExposedPorts", {c.exposed_ports.begin(), c.exposed_ports.end()});
  print_list("Volumes", {c.volumes.begin(), c.volumes.end()});
  std::vector<std::string> labels;
  for (const auto& [k, v] : c.labels) {
    labels.push_back(fmt::format("{}={}", k, v));
  }
  print_list("Labels", labels);
  if (!c.stop_signal.empty()) {
    fmt::print("  {:<12}{}\n", "StopSignal", c.stop_signal);
  }
  if (c.healthcheck) {
    fmt::print("  {:<12}{}\n", "Healthcheck", oci::dump_json(*c.healthcheck));
  }
  if (!config.history.empty()) {
    fmt::print("History:\n");
    for (const auto& h : config.history) {
      fmt::print("  {}{}\n", h.created_by.empty() ? "(no command)" : h.created_by, h.empty_layer ? "  [empty]" : "");
    }
  }
  return 0;
}

} // namespace kiln::cli
