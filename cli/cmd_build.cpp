#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include <fmt/core.h>

#include "base/strings.hpp"
#include "builder/engine.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/layer_writer.hpp"

namespace fs = std::filesystem;

namespace kiln::cli {

namespace {

// As root, container root is an unprivileged host id that must be able to
// reach the cache, so root's cache lives under /var/cache (buildah keeps
// root's storage under /var/lib/containers for the same reason).
fs::path default_cache_dir()
{
  if (::geteuid() == 0 && std::getenv("XDG_CACHE_HOME") == nullptr) {
    return "/var/cache/kiln";
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "kiln";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr && home[0] != '\0' ? home : "/") / ".cache" / "kiln";
}

std::pair<std::string, std::string> split_pair(std::string_view option, const std::string& text)
{
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error(fmt::format("build: --{} takes KEY=VALUE, got \"{}\"", option, text));
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// --secret id=ID,src=PATH (BuildKit's form; "source" and "env" are not taken).
builder::BuildSecret parse_secret(const std::string& text)
{
  builder::BuildSecret secret;
  for (auto part : split(text, ',')) {
    auto [key, value] = split_pair("secret", std::string(part));
    if (key == "id") {
      secret.id = value;
    } else if (key == "src" || key == "source") {
      secret.source = value;
    } else {
      throw Error(fmt::format("build: --secret: unknown key \"{}\" (expected id=ID,src=PATH)", key));
    }
  }
  if (secret.id.empty() || secret.source.empty()) {
    throw Error(fmt::format("build: --secret \"{}\": expected id=ID,src=PATH", text));
  }
  if (::access(secret.source.c_str(), R_OK) != 0) {
    throw Error(fmt::format("build: --secret id={}: cannot read \"{}\"", secret.id, secret.source.string()));
  }
  return secret;
}

} // namespace

int cmd_build(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv,
            {{"file", Takes::value, 'f'},
             {"tag", Takes::value, 't'},
             {"build-arg"},
             {"target"},
             {"platform"},
             {"network"},
             {"ignorefile"},
             {"compression"},
             {"compression-level"},
             {"timestamp"},
             {"jobs"},
             {"quiet", Takes::none, 'q'},
             {"digestfile"},
             {"secret"},
             {"cache-dir"},
             {"insecure-allow-unverified-base", Takes::none}});
  args.expect_positional(1, 1, "kiln build [options] CONTEXT");
  builder::BuildOptions options;
  options.context = args.positional()[0];
  if (!fs::is_directory(options.context)) {
    throw Error(fmt::format("build: context \"{}\" is not a directory", options.context.string()));
  }
  if (auto file = args.get("file")) {
    options.containerfile = *file;
  } else if (fs::exists(options.context / "Containerfile")) {
    options.containerfile = options.context / "Containerfile";
  } else {
    options.containerfile = options.context / "Dockerfile";
  }
  if (!fs::is_regular_file(options.containerfile)) {
    throw Error(fmt::format("build: no Containerfile or Dockerfile in \"{}\" (use -f FILE)", options.context.string()));
  }
  for (const auto& tag : args.all("tag")) {
    options.destinations.push_back(parse_reference(tag));
  }
  for (const auto& arg : args.all("build-arg")) {
    options.build_args.push_back(split_pair("build-arg", arg));
  }
  options.target = args.get("target");
  options.platform = platform_option(args);
  if (options.platform.os != "linux" || options.platform.architecture != oci::Platform::host().architecture) {
    throw Error(fmt::format("build: --platform {}: kiln builds for this machine's platform ({}) only",
                            options.platform.str(), oci::Platform::host().str()));
  }
  std::string network = args.get("network").value_or("none");
  if (network != "none" && network != "host") {
    throw Error(fmt::format("build: --network takes none or host, not \"{}\"", network));
  }
  options.network = network == "host" ? builder::Network::host : builder::Network::none;
  if (auto ignore = args.get("ignorefile")) {
    options.ignorefile = *ignore;
  }
  options.compression = compression_option(args, "build");
  if (auto timestamp = args.get("timestamp")) {
    auto value = parse_u64(*timestamp);
    if (!value) {
      throw Error(fmt::format("build: --timestamp takes seconds since the epoch, got \"{}\"", *timestamp));
    }
    options.epoch = static_cast<int64_t>(*value);
  } else {
    options.epoch = unwrap(oci::source_date_epoch_from_env());
  }
  if (auto jobs = args.get("jobs"); jobs && !parse_u64(*jobs)) {
    throw Error(fmt::format("build: --jobs takes a number, got \"{}\"", *jobs));
  }
  for (const auto& secret : args.all("secret")) {
    options.secrets.push_back(parse_secret(secret));
  }
  options.cache_dir = args.get("cache-dir").value_or(default_cache_dir().string());
  if (args.has("insecure-allow-unverified-base")) {
    options.trust = builder::BaseTrust::insecure_allow_unverified;
  }
  bool quiet = args.has("quiet");
  options.progress = [quiet](std::string_view line) {
    if (!quiet) {
      fmt::print(stderr, "{}\n", line);
    }
  };
  options.output = [quiet](builder::OutputStream, std::string_view text) {
    if (!quiet) {
      fmt::print(stderr, "{}", text);
    }
  };
  builder::SignalCancel cancel;
  options.cancel_fd = cancel.cancel_fd();
  auto result = builder::build(options);
  std::string digest = result.manifest.digest.str();
  if (auto file = args.get("digestfile")) {
    unwrap(write_file_atomic(*file, digest + "\n", Durable::no));
  }
  if (!quiet) {
    for (const auto& destination : options.destinations) {
      fmt::print(stderr, "wrote {}\n", destination.str());
    }
  }
  fmt::print("{}\n", digest);
  return 0;
}

} // namespace kiln::cli
