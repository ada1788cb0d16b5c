#pragma once

// The sandbox: runs one command on a stack of read-only layer directories
// and hands back the upper directory holding what it changed.
//
//   run(RootfsLayers, Command, Environment, User, Mounts, RunOptions)
//     -> RunResult { UpperDir, ExitStatus, last lines }
//
// Each run gets new user, mount, PID, IPC and UTS namespaces and, unless
// Network::host, a network namespace with only loopback up. Container root
// is never host root (builder/idmap.hpp). The rootfs is overlayfs mounted
// inside the user namespace, else fuse-overlayfs, else a copy-and-diff
// snapshot. docs/sandbox.md describes the whole setup.

#include "base/result.hpp"
#include "builder/idmap.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kiln::builder {

// Read-only lower directories from the layer store, bottom layer first. Their
// files must carry host ids of the run's IdMap (IdMapping::to_host of the
// layer's ids), as the layer store extracts them for this user.
struct RootfsLayers
{
  std::vector<std::filesystem::path> lower_dirs;
};

// What to execute. Both forms exec argv directly; the shell form only
// prepends the shell, so an exec-form command needs no shell in the rootfs.
struct Command
{
  std::vector<std::string> argv;

  static Command exec_form(std::vector<std::string> argv) { return Command{std::move(argv)}; }
  // shell defaults to Docker's SHELL: {"/bin/sh", "-c"}.
  static Command shell_form(std::string_view script, std::vector<std::string> shell = {"/bin/sh", "-c"});
};

// "KEY=VALUE" entries; PATH defaults to Docker's when absent, HOME to the
// user's home from the rootfs's /etc/passwd.
struct Environment
{
  std::vector<std::string> entries;
};

// "uid[:gid]" or "name[:group]", names resolved in the rootfs; empty = root.
struct User
{
  std::string spec;
};

enum class Access { read_only, read_write };

// A host path bound into the container (read-only unless asked).
struct BindMount
{
  std::filesystem::path source;
  std::string target;
  Access access = Access::read_only;
};

struct TmpfsMount
{
  std::string target;
  uint64_t size_bytes = 0; // 0: the kernel's default (half of RAM)
};

// A directory that persists across runs: source lives under a cache
// directory the caller owns (kiln keys it by the mount's id); created when
// missing, owned by container root.
struct CacheMount
{
  std::filesystem::path source;
  std::string target;
};

// A secret file, read by kiln and exposed read-only at target (default
// /run/secrets/ID) from a tmpfs, so its bytes never reach the upper dir.
struct SecretMount
{
  std::string id;
  std::filesystem::path source;
  std::string target;
  uint32_t uid = 0;
  uint32_t gid = 0;
  unsigned mode = 0400;
};

using SandboxMount = std::variant<BindMount, TmpfsMount, CacheMount, SecretMount>;

enum class Network { none, host };
enum class RootfsDriver { automatic, overlay, fuse_overlayfs, copy };
enum class OnFailure { remove_upper, keep_upper };
enum class Stdin { null, inherit };
enum class OutputStream { out, err };

std::string_view driver_name(RootfsDriver driver);

struct RunOptions
{
  std::string workdir = "/"; // created when missing
  Network network = Network::none;
  std::string hostname = "kiln";
  RootfsDriver driver = RootfsDriver::automatic;
  OnFailure on_failure = OnFailure::remove_upper;
  Stdin stdin_mode = Stdin::null;
  // Where the run's temporary directory (upper, work, mount point) is made;
  // put it on the layer store's filesystem so the upper dir can be renamed.
  std::filesystem::path scratch_dir = "/tmp";
  // The command's output as it arrives. Null: discarded (still tailed).
  std::function<void(OutputStream, std::string_view)> output;
  // One-line notices: the rootfs driver used, fallbacks, the id-map warning.
  std::function<void(std::string_view)> notice;
  // Readable (or hung up) = stop: the process tree is killed and everything
  // cleaned up. -1: none. See SignalCancel.
  int cancel_fd = -1;
  size_t tail_lines = 20;
};

struct ExitStatus
{
  int code = 0;   // exit code when the command exited
  int signal = 0; // signal number when it was killed
  bool cancelled = false;

  bool success() const { return !cancelled && signal == 0 && code == 0; }
  // "exit code 3", "killed by signal 9 (Killed)", "cancelled".
  std::string describe() const;
  // The shell convention: code, or 128 + signal.
  int shell_code() const { return signal != 0 ? 128 + signal : code; }
};

// The run's upper directory; removed (through the user namespace if needed)
// when this object dies unless release()d. The layer writer reads it with
// scan_upper() and the files inside (see builder/upper.hpp).
class UpperDir
{
public:
  UpperDir() = default;
  UpperDir(std::filesystem::path run_dir, IdMap map);
  UpperDir(UpperDir&& other) noexcept;
  UpperDir& operator=(UpperDir&& other) noexcept;
  ~UpperDir();

  // The upper directory itself (run_dir/upper); empty when removed.
  std::filesystem::path path() const;
  const IdMap& id_map() const { return m_map; }
  Result<void> remove();
  // Keeps the directory on disk; the caller removes run_dir() itself.
  void release() { m_run_dir.clear(); }
  const std::filesystem::path& run_dir() const { return m_run_dir; }

private:
  std::filesystem::path m_run_dir;
  IdMap m_map;
};

struct RunResult
{
  UpperDir upper;
  ExitStatus status;
  std::vector<std::string> last_lines; // the last tail_lines lines of output
  RootfsDriver driver = RootfsDriver::overlay;
};

// Runs command. Fails (Result error) when the sandbox cannot be set up or
// the program cannot be executed; a command that runs and fails is a
// RunResult with !status.success(), its upper dir already removed when
// on_failure says so.
Result<RunResult> run(const RootfsLayers& layers, const Command& command, const Environment& env,
                      const User& user, const std::vector<SandboxMount>& mounts, const RunOptions& options);

// SIGINT and SIGTERM, while this object lives, make cancel_fd() readable
// instead of killing kiln, so run() can stop the sandbox and clean up.
class SignalCancel
{
public:
  SignalCancel();
  SignalCancel(const SignalCancel&) = delete;
  SignalCancel& operator=(const SignalCancel&) = delete;
  ~SignalCancel();

  int cancel_fd() const;
  // The signal received, 0 if none.
  int signal() const;
};

} // namespace kiln::builder
