// `kiln run`: one command in kiln's build sandbox, on a rootfs directory and
// optional layer directories above it (the REF form arrives with the layer
// store). Argument parsing and printing only; builder/sandbox.hpp does the work.

#include "base/error.hpp"
#include "base/strings.hpp"
#include "builder/rootfs.hpp"
#include "builder/sandbox.hpp"
#include "builder/upper.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "oci/image.hpp"

#include <csignal>
#include <cstdio>
#include <fmt/core.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace kiln::cli {

namespace {

using namespace kiln::builder;

// --mount type=bind,source=S,target=T[,rw] | type=tmpfs,target=T[,size=BYTES]
//         | type=cache,source=DIR,target=T | type=secret,id=ID,source=FILE[,target=T]
SandboxMount parse_mount(std::string_view spec)
{
  std::string type;
  std::string source;
  std::string target;
  std::string id;
  uint64_t size = 0;
  bool rw = false;
  for (auto field : split(spec, ',')) {
    auto eq = field.find('=');
    std::string_view key = field.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : field.substr(eq + 1);
    if (key == "type") {
      type = value;
    } else if (key == "source" || key == "src") {
      source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      target = value;
    } else if (key == "id") {
      id = value;
    } else if (key == "rw" || key == "readwrite") {
      rw = true;
    } else if (key == "ro" || key == "readonly") {
      rw = false;
    } else if (key == "size" && parse_u64(value)) {
      size = *parse_u64(value);
    } else {
      throw Error(fmt::format("run: --mount \"{}\": unknown field \"{}\"", spec, key));
    }
  }
  auto need = [&](const std::string& value, std::string_view what) {
    if (value.empty()) {
      throw Error(fmt::format("run: --mount \"{}\": {} mount needs {}", spec, type, what));
    }
  };
  if (type == "bind") {
    need(source, "source=");
    need(target, "target=");
    return BindMount{source, target, rw ? Access::read_write : Access::read_only};
  }
  if (type == "tmpfs") {
    need(target, "target=");
    return TmpfsMount{target, size};
  }
  if (type == "cache") {
    need(source, "source= (the directory that persists)");
    need(target, "target=");
    return CacheMount{source, target};
  }
  if (type == "secret") {
    need(id, "id=");
    need(source, "source=");
    if (id.find('/') != std::string::npos) {
      throw Error(fmt::format("run: --mount \"{}\": secret id must not contain '/'", spec));
    }
    return SecretMount{id, source, target};
  }
  throw Error(fmt::format("run: --mount \"{}\": type must be bind, tmpfs, cache or secret", spec));
}

RootfsDriver parse_driver(const std::string& name)
{
  for (auto d :
       {RootfsDriver::automatic, RootfsDriver::overlay, RootfsDriver::fuse_overlayfs, RootfsDriver::copy}) {
    if (driver_name(d) == name || (d == RootfsDriver::overlay && name == "overlay")) {
      return d;
    }
  }
  throw Error(
      fmt::format("run: --rootfs-driver \"{}\": expected auto, overlay, fuse-overlayfs or copy", name));
}

void print_id_map(const IdMap& map)
{
  for (const auto& r : map.uids.ranges) {
    fmt::print("uid {} {} {}\n", r.container, r.host, r.count);
  }
  for (const auto& r : map.gids.ranges) {
    fmt::print("gid {} {} {}\n", r.container, r.host, r.count);
  }
}

// A rootfs owned by an id outside the map (a tree root made as host root)
// is readable but not writable by container root; say so before it fails.
void warn_unmapped_owner(const std::string& dir, const IdMap& map)
{
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && !map.uids.to_container(st.st_uid)) {
    fmt::print(
        stderr,
        "kiln: warning: run: \"{}\" is owned by host uid {}, which the sandbox does not map (container root "
        "is host uid {}): container root cannot write there; chown it into the range (kiln run "
        "--print-idmap)\n",
        dir, st.st_uid, map.uids.to_host(0).value_or(0));
  }
}

std::string quote_argv(const std::vector<std::string>& argv)
{
  std::string text;
  for (const auto& a : argv) {
    text += (text.empty() ? "" : " ") + fmt::format("\"{}\"", a);
  }
  return "[" + text + "]";
}

} // namespace

int cmd_run(std::string_view name, std::span<const std::string> argv)
{
  if (print_help_if_asked(name, argv)) {
    return 0;
  }
  Args args(name, argv,
            {{"rootfs"},
             {"layer"},
             {"network"},
             {"user", Takes::value, 'u'},
             {"workdir", Takes::value, 'w'},
             {"env", Takes::value, 'e'},
             {"mount"},
             {"rootfs-driver"},
             {"scratch"},
             {"diff", Takes::none},
             {"quiet", Takes::none, 'q'},
             {"print-idmap", Takes::none},
             {"cache-dir"}});
  if (args.has("print-idmap")) {
    print_id_map(current_id_map());
    return 0;
  }
  args.expect_positional(0, 1, "kiln run REF|--rootfs DIR [--layer DIR]... [OPTIONS] [-- CMD...]");
  if (args.get("rootfs").has_value() == !args.positional().empty()) {
    throw Error("run: name an image (kiln run REF [-- CMD...]) or a directory (--rootfs DIR -- CMD...)");
  }
  RootfsLayers layers;
  Environment env;
  std::vector<std::string> command_argv = args.rest();
  std::string user = args.get("user").value_or("");
  std::string workdir = args.get("workdir").value_or("");
  std::optional<builder::FlattenedImage> flattened;
  if (!args.positional().empty()) {
    // An image: its layers flattened once into kiln's rootfs cache; its
    // config supplies what the options do not (as `podman run` does).
    auto source = open_source(args.positional()[0]);
    auto image = unwrap(oci::load_image(source.layout(), source.top(), oci::Platform::host()));
    flattened = unwrap(builder::flatten_image(source.layout(), image.manifest.layers, image.config.diff_ids,
                                              args.get("cache-dir").value_or(builder::default_cache_dir().string()),
                                              [](const std::string& line) {
                                                fmt::print(stderr, "kiln: warning: {}\n", line);
                                              }));
    layers.lower_dirs.push_back(flattened->rootfs);
    const auto& c = image.config.config;
    std::vector<std::string> command = command_argv.empty() ? c.cmd.value_or(std::vector<std::string>{}) : command_argv;
    command_argv = c.entrypoint.value_or(std::vector<std::string>{});
    command_argv.insert(command_argv.end(), command.begin(), command.end());
    env.entries = c.env;
    user = user.empty() ? c.user : user;
    workdir = workdir.empty() ? c.working_dir : workdir;
  } else {
    layers.lower_dirs.push_back(*args.get("rootfs"));
  }
  if (command_argv.empty()) {
    throw Error("run: no command: give it after \"--\" (the image has no Entrypoint or Cmd)");
  }
  for (const auto& layer : args.all("layer")) {
    layers.lower_dirs.push_back(layer);
  }
  for (const auto& e : args.all("env")) {
    env.entries.push_back(e);
  }
  for (const auto& e : env.entries) {
    if (e.find('=') == std::string::npos || e.front() == '=') {
      throw Error(fmt::format("run: --env \"{}\": expected KEY=VALUE", e));
    }
  }
  std::vector<SandboxMount> mounts;
  for (const auto& spec : args.all("mount")) {
    mounts.push_back(parse_mount(spec));
  }
  RunOptions options;
  std::string network = args.get("network").value_or("none");
  if (network == "host") {
    options.network = Network::host;
  } else if (network != "none") {
    throw Error(fmt::format("run: --network \"{}\": expected none or host", network));
  }
  options.workdir = workdir.empty() ? "/" : workdir;
  options.driver = parse_driver(args.get("rootfs-driver").value_or("auto"));
  const char* tmpdir = ::getenv("TMPDIR");
  options.scratch_dir = args.get("scratch").value_or(tmpdir && *tmpdir ? tmpdir : "/tmp");
  bool quiet = args.has("quiet");
  options.notice = [quiet](std::string_view text) {
    if (!quiet || starts_with(text, "warning:")) {
      fmt::print(stderr, "kiln: {}\n", text);
    }
  };
  if (!quiet) {
    options.output = [](OutputStream stream, std::string_view chunk) {
      FILE* to = stream == OutputStream::out ? stdout : stderr;
      std::fwrite(chunk.data(), 1, chunk.size(), to);
      std::fflush(to);
    };
  }
  options.on_failure = OnFailure::remove_upper;
  if (auto rootfs = args.get("rootfs")) {
    warn_unmapped_owner(*rootfs, current_id_map());
  }

  builder::Command command = builder::Command::exec_form(command_argv);
  SignalCancel cancel;
  options.cancel_fd = cancel.cancel_fd();
  auto result = builder::run(layers, command, env, User{user}, mounts, options);
  if (!result) {
    throw Error(fmt::format("run: {}: {}", quote_argv(command.argv), result.error()));
  }
  if (result->status.cancelled) {
    int sig = cancel.signal();
    fmt::print(stderr, "kiln: run: {}: cancelled by SIG{}; sandbox stopped and cleaned up\n",
               quote_argv(command.argv), sig ? ::sigabbrev_np(sig) : "?");
    return 128 + (sig ? sig : SIGTERM);
  }
  if (!result->status.success()) {
    std::string message =
        fmt::format("kiln: run: {}: {}", quote_argv(command.argv), result->status.describe());
    if (quiet && !result->last_lines.empty()) {
      message += "; last output:";
      for (const auto& line : result->last_lines) {
        message += "\n  " + line;
      }
    }
    fmt::print(stderr, "{}\n", message);
    return result->status.shell_code();
  }
  if (args.has("diff")) {
    auto changes = scan_upper(result->upper.path(), result->upper.id_map());
    if (!changes) {
      throw Error(fmt::format("run: {}", changes.error()));
    }
    for (const auto& e : changes->changed) {
      fmt::print("C /{} {}:{} {:o}\n", e.path, e.uid, e.gid, e.mode & 07777);
    }
    for (const auto& p : changes->deleted) {
      fmt::print("D /{}\n", p);
    }
    for (const auto& p : changes->opaque) {
      fmt::print("O /{}\n", p);
    }
  }
  return 0;
}

} // namespace kiln::cli
