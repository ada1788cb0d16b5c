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
  {"build", "build an image from a Containerfile, rootless, with no daemon",
   "usage: kiln build [options] CONTEXT\n\n"
   "  -f, --file FILE         the Containerfile (default CONTEXT/Containerfile, then Dockerfile)\n"
   "  -t, --tag REF           where to write the image; repeat for several destinations\n"
   "  --build-arg K=V         set a build argument (repeatable)\n"
   "  --target STAGE          build this stage and what it needs\n"
   "  --platform OS/ARCH      only this machine's platform\n"
   "  --network none|host     RUN's network (default none: loopback only)\n"
   "  --ignorefile FILE       instead of .containerignore / .dockerignore\n"
   "  --secret id=ID,src=PATH expose a file to RUN --mount=type=secret,id=ID\n"
   "  --compression none|gzip|zstd   --compression-level N\n"
   "  --timestamp EPOCH       fix every time kiln writes (also SOURCE_DATE_EPOCH)\n"
   "  --cache-dir DIR         kiln's cache (default $XDG_CACHE_HOME/kiln; root: /var/cache/kiln)\n"
   "  --no-cache              build every step again (the cache is refreshed, not read)\n"
   "  --cache-log FILE        write each step's cache decision as a JSON line\n"
   "  --check-reproducible    build twice from scratch in temporary caches and report the\n"
   "                          first layer and file that differ, if any\n"
   "  --digestfile FILE       write the image digest there\n"
   "  --jobs N                build up to N independent stages at once (default 1)\n"
   "  -q, --quiet             print only the image digest\n"
   "  --policy FILE           the trust policy (else $KILN_POLICY, ./kiln.toml,\n"
   "                          $XDG_CONFIG_HOME/kiln/kiln.toml, /etc/kiln/kiln.toml)\n"
   "  --insecure-allow-unverified-base   with no policy, build on bases whose signature was\n"
   "                          not verified\n"
   "  --scan --db DB          scan the written image against an advisory DB (kiln db import);\n"
   "                          --fail-on low|medium|high|critical exits 3 when findings remain;\n"
   "                          --ignore-unfixed, --ignore-file F, --format as kiln scan\n"
   "  --sign-key KEY          sign each destination (cosign format); with --scan, attach the\n"
   "                          vuln report and the CycloneDX SBOM as signed attestations\n",
   cmd_build},
  {"cache", "list or prune the build cache",
   "usage: kiln cache ls [--cache-dir DIR]\n"
   "       kiln cache prune [--cache-dir DIR] [--all] [--max-size SIZE] [--older-than AGE]\n\n"
   "  ls                      each cached step: key, last use, size, Containerfile line\n"
   "  prune                   remove what no cached step refers to (leftovers of interrupted\n"
   "                          builds, blobs, directories); with options, entries first:\n"
   "  --all                   every entry, RUN cache mounts and stat caches\n"
   "  --older-than AGE        entries unused for longer (7d, 12h, 30m)\n"
   "  --max-size SIZE         least recently used entries until the rest fit (10G, 512M)\n"
   "  --cache-dir DIR         the cache (default $XDG_CACHE_HOME/kiln; root: /var/cache/kiln)\n\n"
   "prune waits for running builds and holds new ones back while it works.\n",
   cmd_cache},
  {"import", "make a one-layer image from a rootfs tarball or directory",
   "usage: kiln import ROOTFS.tar|DIR -t REF [-t REF]... [options]\n\n"
   "  -t, --tag REF           where to write the image (oci:DIR:TAG, oci-archive:FILE[:TAG],\n"
   "                          docker-archive:FILE[:NAME:TAG], or NAME:TAG in kiln's local store)\n"
   "  --config-json FILE      start from this image config (or container config object)\n"
   "  --entrypoint JSON       exec form, e.g. '[\"/usr/bin/python3.11\"]'\n"
   "  --cmd JSON              exec form\n"
   "  --env K=V               add or replace an environment variable (repeatable)\n"
   "  --user U                --workdir D    --label K=V (repeatable)\n"
   "  --platform OS/ARCH      the image's platform (default: this machine's)\n"
   "  --compression none|gzip|zstd   --compression-level N\n"
   "  -q, --quiet             print only the manifest digest\n\n"
   "With SOURCE_DATE_EPOCH set, the config's created time, history and file mtimes above it\n"
   "use it, so importing the same tree twice gives the same digest.\n",
   cmd_import},
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
  {"layer", "write a layer blob from a directory, or apply one onto a directory",
   "usage: kiln layer pack DIR FILE [--compression none|gzip|zstd] [--compression-level N] [--overlay]\n"
   "       kiln layer apply FILE DIR [--diff-id DIGEST] [--ownership FILE]\n\n"
   "pack writes DIR as a normalised layer (sorted, numeric owners, mtimes clamped to\n"
   "SOURCE_DATE_EPOCH) and prints its mediaType, digest, size and diffID as JSON; --overlay\n"
   "reads DIR as an overlayfs upper directory (whiteouts become deletions). gzip levels 0-9\n"
   "(igzip uses 1, 2, or 3 for 3-9; default 3), zstd 1-22 (default 3).\n"
   "apply extracts FILE (gzip, zstd or tar) onto DIR with OCI whiteouts, never outside DIR.\n",
   cmd_layer},
  {"unpack", "apply an image's layers into a directory (whiteouts, owners, links)",
   "usage: kiln unpack REF DIR [--platform OS/ARCH] [--ownership FILE]\n\n"
   "Applies each layer in order into DIR (new or empty), checking every layer's digest and\n"
   "diff_id, and never writing outside DIR. Without privilege, owners, device nodes and xattrs\n"
   "that cannot be applied are listed in FILE (JSON) with --ownership.\n",
   cmd_unpack},
  {"version", "print kiln's version and the versions of the engines that shape its output",
   "usage: kiln version\n", cmd_version},
  {"db", "build and inspect the offline advisory database that `kiln scan` reads",
   "usage: kiln db import SRC... -o DB [--uri URI] [--version V] [--quiet]\n"
   "       kiln db info DB\n\n"
   "import reads OSV records from directories, .json, .jsonl and .zip files (osv.dev's\n"
   "exports) and writes one indexed file; docs/advisory-db.md describes it. Withdrawn records\n"
   "are skipped, malformed ones reported and skipped, unsupported ecosystems counted.\n",
   cmd_db},
  {"keygen", "create a cosign-compatible key pair (cosign.key, cosign.pub)",
   "usage: kiln keygen [--output-key-prefix PREFIX]\n"
   "  Writes PREFIX.key (encrypted with KILN_PASSWORD or COSIGN_PASSWORD, else a prompt)\n"
   "  and PREFIX.pub. PREFIX defaults to \"cosign\".\n",
   cmd_keygen},
  {"sign", "sign an image as cosign does (.sig tag, simple-signing payload)",
   "usage: kiln sign --key KEY [-a KEY=VALUE]... [--identity HOST/PATH:TAG] [--bundle] REF\n"
   "  Signs the manifest REF names (and each platform manifest of an index) with KEY\n"
   "  (cosign.key; password from KILN_PASSWORD/COSIGN_PASSWORD or a prompt). REF is an\n"
   "  oci:DIR:TAG layout or a local image. --identity sets the signed docker-reference;\n"
   "  --bundle also writes a sigstore bundle v0.3 referrer.\n",
   cmd_sign},
  {"attest", "attach a signed in-toto attestation (.att tag, DSSE)",
   "usage: kiln attest --key KEY --type TYPE --predicate FILE [--replace] [--bundle] [--identity NAME:TAG] REF\n"
   "  TYPE: vuln, spdxjson, spdx, cyclonedx, slsaprovenance, slsaprovenance1, link, openvex,\n"
   "  custom (default) or an absolute predicate URI. --replace drops attestations of the same type.\n",
   cmd_attest},
  {"verify", "verify an image's cosign signatures offline",
   "usage: kiln verify --key KEY... [--rekor-key REKOR.pub] [--identity NAME[:TAG]] [-a KEY=VALUE]... REF\n"
   "       kiln verify --certificate-identity ID [--certificate-oidc-issuer URL]\n"
   "                   (--trusted-root trusted_root.json | --ca-roots CA.pem [--rekor-key REKOR.pub])\n"
   "                   [--ca-intermediates PEM] [--certificate-hostname HOST] REF\n"
   "       kiln verify [--policy kiln.toml] REF   (the trust policy, as kiln build applies it)\n"
   "  Exit status 0 only when at least one signature verifies. Without --rekor-key (or a\n"
   "  trusted root) a certificate chain is checked at the current time (BYO-PKI).\n",
   cmd_verify},
  {"verify-attestation", "verify an image's attestations offline",
   "usage: kiln verify-attestation (--key KEY | keyless flags as for verify) [--type TYPE]\n"
   "                               [--print-predicate] REF\n",
   cmd_verify_attestation},
  {"parse", "read a Containerfile and print its build model",
   "usage: kiln parse [-f FILE] [--build-arg K=V]... [--target T] [--ignorefile F] [--platform P] --json "
   "[CONTEXT]\n\n"
   "Reads CONTEXT/Containerfile (or CONTEXT/Dockerfile, or -f FILE) the way Docker does, expands\n"
   "variables, resolves the stage graph for --target and prints the model as JSON with --json\n"
   "(a summary without). Warnings go to stderr once each. CONTEXT defaults to \".\"; the ignore\n"
   "file is --ignorefile, else CONTEXT/.containerignore, else CONTEXT/.dockerignore.\n",
   cmd_parse},
  {"run", "run an image, or a command on a rootfs, in kiln's rootless sandbox",
   "usage: kiln run REF [OPTIONS] [-- CMD [ARG]...]\n"
   "       kiln run --rootfs DIR [--layer DIR]... [OPTIONS] -- CMD [ARG]...\n"
   "       kiln run --print-idmap\n\n"
   "Runs CMD (exec form: no shell needed) in new user, mount, PID, IPC, UTS and\n"
   "network namespaces on overlayfs over DIR and the layers (bottom first). With REF,\n"
   "the image's layers (flattened once into kiln's cache) are the rootfs, and its\n"
   "Entrypoint, Cmd (replaced by CMD), Env, User and WorkingDir apply.\n\n"
   "  --network none|host     none (default): only loopback; host: the host's network\n"
   "  -u, --user U            uid[:gid] or name[:group] from the rootfs's /etc/passwd\n"
   "  -w, --workdir D         working directory, created when missing (default /)\n"
   "  -e, --env K=V           environment variable (repeatable)\n"
   "  --mount SPEC            type=bind,source=S,target=T[,rw] | type=tmpfs,target=T[,size=N]\n"
   "                          | type=cache,source=DIR,target=T | type=secret,id=ID,source=F[,target=T]\n"
   "  --rootfs-driver D       auto (default), overlay, fuse-overlayfs or copy\n"
   "  --scratch DIR           where the run's temporary directory goes (default $TMPDIR or /tmp)\n"
   "  --diff                  print what the command changed: C path uid:gid mode, D path, O dir\n"
   "  -q, --quiet             do not stream output; on failure print its last lines\n"
   "  --print-idmap           print the container-to-host id map kiln uses and exit\n",
   cmd_run},
  {"scan", "catalogue an image's or a directory's packages and match them against an advisory DB",
   "usage: kiln scan REF|--rootfs DIR --db DB [--format table|json|sarif|cyclonedx|spdx|cosign-vuln]\n"
   "                 [--output FILE] [--fail-on low|medium|high|critical] [--ignore-unfixed]\n"
   "                 [--ignore-file kiln-ignore.toml] [--name NAME] [--max-db-age DAYS]\n"
   "                 [--platform OS/ARCH] [--cache-dir DIR]\n\n"
   "REF is any kiln image reference; its layers are flattened once into kiln's cache.\n"
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
  fmt::print("kiln {}\nisa-l igzip {}\nzstd {}\n", KILN_VERSION, KILN_DEFLATE_VERSION, KILN_ZSTD_VERSION);
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
