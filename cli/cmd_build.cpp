#include <cstdio>
#include <cstdlib>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/strings.hpp"
#include "builder/engine.hpp"
#include "builder/idmap.hpp"
#include "builder/reproducible.hpp"
#include "builder/rootfs.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "cli/scanning.hpp"
#include "cli/signing.hpp"
#include "oci/image.hpp"
#include "signer/payload.hpp"
#include "signer/statement.hpp"
#include "signer/store.hpp"
#include "oci/layer_writer.hpp"

namespace fs = std::filesystem;

namespace kiln::cli {

namespace {

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

// --check-reproducible: two builds from scratch, each with its own empty
// cache; the destinations are written only when both gave the same image.
builder::BuildResult check_reproducible(const builder::BuildOptions& options)
{
  if (!options.epoch) {
    options.progress("warning: --check-reproducible without SOURCE_DATE_EPOCH or --timestamp: the times kiln "
                     "writes differ between the builds");
  }
  std::error_code ec;
  fs::create_directories(options.cache_dir / "tmp", ec);
  TempDir temp(options.cache_dir / "tmp", "reproducible-");
  ::chmod(temp.path().c_str(), 0755);
  struct Removal
  {
    TempDir& dir;
    ~Removal()
    {
      (void)builder::remove_tree(dir.path(), builder::current_id_map());
      dir.release();
    }
  } removal{temp};
  std::vector<builder::BuildResult> results;
  std::vector<oci::ImageReference> outputs;
  for (const char* name : {"first", "second"}) {
    builder::BuildOptions run = options;
    run.cache_dir = temp.path() / (std::string(name) + "-cache");
    run.cache = builder::CacheMode::refresh;
    run.cache_log.reset();
    outputs.push_back(unwrap(oci::ImageReference::parse(fmt::format("oci:{}:check", (temp.path() / name).string()))));
    run.destinations = {outputs.back()};
    options.progress(fmt::format("--check-reproducible: {} build", name));
    results.push_back(builder::build(run));
  }
  auto first = unwrap(oci::ImageSource::open(outputs[0]));
  auto second = unwrap(oci::ImageSource::open(outputs[1]));
  std::string difference = unwrap(builder::compare_builds(first.layout(), results[0].manifest, second.layout(),
                                                          results[1].manifest, options.platform));
  if (!difference.empty()) {
    throw Error(fmt::format("build --check-reproducible: not reproducible: {} and {} differ: {}",
                            results[0].manifest.digest.short_str(), results[1].manifest.digest.short_str(),
                            difference));
  }
  options.progress(fmt::format("reproducible: both builds gave {}", results[0].manifest.digest.str()));
  for (const auto& reference : options.destinations) {
    auto destination = unwrap(oci::ImageDestination::open(reference));
    unwrap(oci::copy_blobs(first.layout(), destination.layout(), results[0].manifest));
    unwrap(destination.commit(results[0].manifest));
  }
  return results[0];
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
             {"no-cache", Takes::none},
             {"cache-log"},
             {"check-reproducible", Takes::none},
             {"policy"},
             {"scan", Takes::none},
             {"db"},
             {"fail-on"},
             {"ignore-unfixed", Takes::none},
             {"ignore-file"},
             {"max-db-age"},
             {"format"},
             {"sign-key"},
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
  if (auto jobs = args.get("jobs")) {
    auto value = parse_u64(*jobs);
    if (!value || *value == 0) {
      throw Error(fmt::format("build: --jobs takes a positive number, got \"{}\"", *jobs));
    }
    options.jobs = static_cast<unsigned>(std::min<uint64_t>(*value, 64));
  }
  for (const auto& secret : args.all("secret")) {
    options.secrets.push_back(parse_secret(secret));
  }
  options.cache_dir = args.get("cache-dir").value_or(builder::default_cache_dir().string());
  if (args.has("no-cache")) {
    options.cache = builder::CacheMode::refresh;
  }
  if (auto log = args.get("cache-log")) {
    options.cache_log = *log;
  }
  if (auto policy = args.get("policy")) {
    options.policy = *policy;
  }
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
  // Scanning and signing are checked before the build, so a bad option or
  // key fails fast; the key's password is asked for now, not after the build.
  std::optional<ScanSettings> scan;
  if (args.has("scan")) {
    scan = scan_settings(args, argv, "build --scan");
  } else if (args.has("db") || args.has("fail-on")) {
    throw Error("build: --db and --fail-on go with --scan");
  }
  std::optional<signer::PrivateKey> key;
  if (auto key_file = args.get("sign-key")) {
    for (const auto& destination : options.destinations) {
      if (destination.transport != oci::Transport::oci && destination.transport != oci::Transport::local) {
        throw Error(fmt::format("build --sign-key: \"{}\": signatures are stored next to the image, so sign into "
                                "an oci: layout or the local store (then kiln copy)",
                                destination.str()));
      }
    }
    key = load_key_file(*key_file, "build --sign-key");
  }
  builder::SignalCancel cancel;
  options.cancel_fd = cancel.cancel_fd();
  auto result = args.has("check-reproducible") ? check_reproducible(options) : builder::build(options);
  std::string digest = result.manifest.digest.str();
  int status = 0;
  std::optional<scanner::Report> report;
  if (scan && !options.destinations.empty()) {
    // Scan what was written: the first destination, read back like any image.
    auto source = unwrap(oci::ImageSource::open(options.destinations.front()));
    auto image = unwrap(oci::load_image(source.layout(), result.manifest, options.platform));
    auto flattened = unwrap(builder::flatten_image(source.layout(), image.manifest.layers, image.config.diff_ids,
                                                   options.cache_dir, [](const std::string& line) {
                                                     fmt::print(stderr, "kiln: warning: {}\n", line);
                                                   }));
    const fs::path& rootfs = flattened.rootfs;
    scan->options.target = options.destinations.front().str();
    scan->options.target_digest = digest;
    report = scan_directory(rootfs, *scan);
    if (!args.get("format")) {
      scan->format = scanner::Format::table;
    }
    fmt::print(stderr, "{}", scanner::render(*report, scan->format));
    if (scan->threshold && scanner::trips(*report, *scan->threshold)) {
      fmt::print(stderr, "kiln: build --scan: findings at or above {} remain (--fail-on)\n",
                 scanner::severity_name(*scan->threshold));
      status = 3;
    }
  }
  if (key) {
    for (const auto& destination : options.destinations) {
      auto source = unwrap(oci::ImageSource::open(destination));
      std::string identity = signing_identity(args, source, "build --sign-key");
      signer::SignOptions sign_options;
      sign_options.identity = identity;
      unwrap(signer::sign_image(source.layout(), source.top(), *key, sign_options));
      if (report) {
        for (auto [type, predicate] : {std::pair{"vuln", scanner::to_cosign_vuln(*report)},
                                       std::pair{"cyclonedx", scanner::to_cyclonedx(*report)}}) {
          signer::AttestOptions attest;
          attest.subject_name = signer::repository_of(identity);
          attest.predicate_type = unwrap(signer::predicate_type_uri(type));
          attest.predicate = nlohmann::ordered_json::parse(predicate.dump());
          attest.replace = signer::Replace::same_predicate_type;
          unwrap(signer::attest_image(source.layout(), source.top(), *key, attest));
        }
      }
      if (!quiet) {
        fmt::print(stderr, "signed {} as {}{}\n", destination.str(), identity,
                   report ? " with vuln and CycloneDX attestations" : "");
      }
    }
  }
  if (auto file = args.get("digestfile")) {
    unwrap(write_file_atomic(*file, digest + "\n", Durable::no));
  }
  if (!quiet) {
    for (const auto& destination : options.destinations) {
      fmt::print(stderr, "wrote {}\n", destination.str());
    }
  }
  fmt::print("{}\n", digest);
  return status;
}

} // namespace kiln::cli
