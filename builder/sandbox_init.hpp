#pragma once

// The inside of a sandbox: what its PID 1 does once it runs in the new
// namespaces as container root. Internal to builder/sandbox.cpp.

#include "builder/sandbox.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace kiln::builder::detail {

// Everything PID 1 needs, prepared by the parent before fork (host paths
// are resolved there, while they still mean the host's files).
struct InitPlan
{
  // Host paths are relative to the working directory PID 1 starts in
  // where they lie below it (see PathAnchor in builder/nsexec.hpp).
  std::vector<std::filesystem::path> lower_dirs; // bottom first
  std::vector<std::filesystem::path> lower_shown; // the same as the user knows them
  std::filesystem::path upper;
  std::filesystem::path work;
  std::filesystem::path merged;
  std::filesystem::path secrets_staging;
  std::filesystem::path fuse_overlayfs; // empty when not installed
  RootfsDriver driver = RootfsDriver::automatic;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string user_spec;
  std::string workdir;
  Network network = Network::none;
  std::string hostname;
  std::vector<SandboxMount> mounts;
  std::vector<std::string> secret_data; // one per SecretMount, in order
  Stdin stdin_mode = Stdin::null;
  bool single_id = false;
  uint32_t root_host_uid = 0; // the host uid container root maps to
};

struct InitFds
{
  int report = -1; // records to the parent (see report())
  int out = -1;    // the command's stdout
  int err = -1;    // the command's stderr
};

// Records on the report pipe, each ended by NUL:
//   "E<message>"   setup or exec failed
//   "N<message>"   a notice for the user
//   "D<driver>"    the rootfs driver in use
//   "P<pid>"       PID 1's pid in the parent's PID namespace
//   "X<code> <signal>"  how the command ended
void report(int fd, char tag, std::string_view text);

// Sets up the mounts, pivots into the rootfs, runs the command as PID 2,
// reaps, cleans the mount points it created, reports and exits.
[[noreturn]] void sandbox_init(const InitPlan& plan, const InitFds& fds);

} // namespace kiln::builder::detail
