#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "base/error.hpp"
#include "cli/commands.hpp"
#include "kiln_config.h"

namespace kiln::cli {

namespace {

const Command k_commands[] = {
  {"inspect", "show an image's digest, platform, layers and config",
   "usage: kiln inspect REF [--raw manifest|config|index] [--platform OS/ARCH]\n\n"
   "REF is oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or NAME[:TAG]\n"
   "(kiln's local store). --raw prints the exact bytes of the manifest, config or index.\n",
   cmd_inspect},
  {"copy", "copy an image between layouts, archives and the local store",
   "usage: kiln copy SRC DST\n\nCopies every blob (checked against its digest) and tags the image at DST.\n",
   cmd_copy},
  {"fsck", "check an OCI layout's blobs, manifests and configs",
   "usage: kiln fsck DIR [--gc]\n\n"
   "Checks that every blob reachable from index.json is present, has its size and digest,\n"
   "and that manifests, indexes and configs parse. Prints each problem; exits 1 if any.\n"
   "--gc then removes blobs nothing reachable needs (blobs younger than an hour are kept).\n",
   cmd_fsck},
  {"version", "print kiln's version and the versions of the engines that shape its output",
   "usage: kiln version\n", cmd_version},
  {"db", "build and inspect the offline advisory database that `kiln scan` reads",
   "usage: kiln db import SRC... -o DB [--uri URI] [--version V] [--quiet]\n"
   "       kiln db info DB\n\n"
   "import reads OSV records from directories, .json, .jsonl and .zip files (osv.dev's\n"
   "exports) and writes one indexed file; docs/advisory-db.md describes it. Withdrawn records\n"
   "are skipped, malformed ones reported and skipped, unsupported ecosystems counted.\n",
   cmd_db},
  {"scan", "catalogue a root filesystem's packages and match them against an advisory DB",
   "usage: kiln scan --rootfs DIR --db DB [--format table|json|sarif|cyclonedx|spdx|cosign-vuln]\n"
   "                 [--output FILE] [--fail-on low|medium|high|critical] [--ignore-unfixed]\n"
   "                 [--ignore-file kiln-ignore.toml] [--name NAME] [--max-db-age DAYS]\n\n"
   "Exit status 3 when a finding at or above --fail-on remains after the ignore rules\n"
   "(UNKNOWN severities never trip it). --max-db-age (default 30, 0: off) warns when the\n"
   "DB's newest record is older; a stale DB is never an error.\n",
   cmd_scan},
};

void print_usage()
{
  fmt::print("kiln {}: a daemonless, rootless OCI image builder\n\n"
             "usage: kiln COMMAND [OPTIONS] [ARGS]\n\ncommands:\n",
             KILN_VERSION);
  for (const auto& command : k_commands) {
    fmt::print("  {:<12} {}\n", command.name, command.summary);
  }
  fmt::print("\nRun `kiln COMMAND --help` for a command's options.\n");
}

} // namespace

std::span<const Command> commands()
{
  return k_commands;
}

bool print_help_if_asked(std::string_view name, std::span<const std::string> args)
{
  for (const auto& arg : args) {
    if (arg == "--") {
      break;
    }
    if (arg == "--help" || arg == "-h") {
      for (const auto& command : k_commands) {
        if (command.name == name) {
          fmt::print("{}", command.help);
        }
      }
      return true;
    }
  }
  return false;
}

int cmd_version(std::string_view name, std::span<const std::string> args)
{
  if (print_help_if_asked(name, args)) {
    return 0;
  }
  fmt::print("kiln {}\nlibdeflate {}\nzstd {}\n", KILN_VERSION, KILN_DEFLATE_VERSION, KILN_ZSTD_VERSION);
  return 0;
}

} // namespace kiln::cli

int main(int argc, char** argv)
{
  using namespace kiln::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    args[0] = "version";
  }
  for (const auto& command : commands()) {
    if (command.name != args[0]) {
      continue;
    }
    try {
      return command.run(command.name, std::span<const std::string>(args).subspan(1));
    } catch (const kiln::Error& e) {
      fmt::print(stderr, "kiln: {}\n", e.what());
      return e.exit_code();
    } catch (const std::exception& e) {
      fmt::print(stderr, "kiln: internal error: {}\n", e.what());
      return 70;
    }
  }
  fmt::print(stderr, "kiln: unknown command \"{}\" (see kiln --help)\n", args[0]);
  return 2;
}
