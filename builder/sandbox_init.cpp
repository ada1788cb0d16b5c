#include "builder/sandbox_init.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "builder/rootpath.hpp"
#include "builder/snapshot.hpp"
#include "builder/userdb.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <set>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace kiln::builder::detail {

void report(int fd, char tag, std::string_view text)
{
  std::string record(1, tag);
  record.append(text);
  record.push_back('\0');
  (void)write_all(fd, record.data(), record.size());
}

namespace {

// Docker's default capability set; the rest of the bounding set is dropped
// so a RUN cannot mount, load modules or trace even inside its namespaces.
constexpr int k_kept_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE,     CAP_FOWNER,  CAP_FSETID,     CAP_KILL,  CAP_SETGID,      CAP_SETUID,
    CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_CHROOT, CAP_MKNOD, CAP_AUDIT_WRITE, CAP_SETFCAP};

Result<void> sys(int rc, std::string_view what)
{
  if (rc != 0) {
    return fail(fmt::format("{}: {}", what, errno_text(errno)));
  }
  return {};
}

#define TRY(expr)                                                                                            \
  do {                                                                                                       \
    if (auto _r = (expr); !_r) {                                                                             \
      return tl::unexpected(_r.error());                                                                     \
    }                                                                                                        \
  } while (0)

// The overlay layer list for mount(2)'s string form: ':' and ',' and '\'
// separate options and layers, so they are escaped.
std::string escape_layer(const fs::path& p)
{
  std::string out;
  for (char c : p.string()) {
    if (c == ':' || c == ',' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string fs_context_log(int fsfd)
{
  // The kernel queues its reasons ("e overlay: ...") on the context fd.
  std::string log;
  char buffer[512];
  for (;;) {
    ssize_t n = ::read(fsfd, buffer, sizeof(buffer) - 1);
    if (n <= 0) {
      break;
    }
    if (!log.empty()) {
      log += "; ";
    }
    log.append(buffer, static_cast<size_t>(n));
  }
  return log;
}

Result<void> mount_native_overlay(const InitPlan& plan)
{
  // fsopen/fsconfig rather than mount(2): "lowerdir+" takes one layer per
  // call, so a deep image is not cut at mount(2)'s one-page option string,
  // and the kernel's reason for a refusal can be read back.
  Fd fsfd(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fsfd) {
    return fail(fmt::format("fsopen overlay: {}", errno_text(errno)));
  }
  bool lower_plus = true;
  for (auto it = plan.lower_dirs.rbegin(); it != plan.lower_dirs.rend(); ++it) {
    if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "lowerdir+", it->c_str(), 0) != 0) {
      lower_plus = false;
      break;
    }
  }
  if (!lower_plus) {
    // Kernels before 6.8: the string form.
    std::string lowers;
    for (auto it = plan.lower_dirs.rbegin(); it != plan.lower_dirs.rend(); ++it) {
      lowers += (lowers.empty() ? "" : ":") + escape_layer(*it);
    }
    std::string options = fmt::format("lowerdir={},upperdir={},workdir={},userxattr,volatile", lowers,
                                      escape_layer(plan.upper), escape_layer(plan.work));
    return sys(::mount("overlay", plan.merged.c_str(), "overlay", 0, options.c_str()), "mount overlay");
  }
  // volatile: the upper dir is a step's scratch until kiln has read it, so
  // the unmount need not sync it; without the flag, overlayfs syncs the
  // whole file system under the upper dir (every dirty page of the build,
  // the extracted base included) when the sandbox's mount namespace goes,
  // which was most of a RUN's overhead here. Where a kernel lacks it, the
  // mount goes on without.
  if (::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "upperdir", plan.upper.c_str(), 0) != 0 ||
      ::fsconfig(fsfd.get(), FSCONFIG_SET_STRING, "workdir", plan.work.c_str(), 0) != 0 ||
      ::fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) != 0) {
    int err = errno;
    std::string log = fs_context_log(fsfd.get());
    return fail(fmt::format("mount overlay: {}{}", errno_text(err), log.empty() ? "" : " (" + log + ")"));
  }
  (void)::fsconfig(fsfd.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0);
  if (::fsconfig(fsfd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    int err = errno;
    std::string log = fs_context_log(fsfd.get());
    return fail(fmt::format("mount overlay: {}{}", errno_text(err), log.empty() ? "" : " (" + log + ")"));
  }
  Fd mnt(::fsmount(fsfd.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) {
    return fail(fmt::format("fsmount overlay: {}", errno_text(errno)));
  }
  return sys(::move_mount(mnt.get(), "", AT_FDCWD, plan.merged.c_str(), MOVE_MOUNT_F_EMPTY_PATH),
             "move_mount overlay");
}

Result<void> mount_fuse_overlayfs(const InitPlan& plan)
{
  if (plan.fuse_overlayfs.empty()) {
    return fail("fuse-overlayfs: not installed (Debian package fuse-overlayfs)");
  }
  std::string lowers;
  for (auto it = plan.lower_dirs.rbegin(); it != plan.lower_dirs.rend(); ++it) {
    lowers += (lowers.empty() ? "" : ":") + escape_layer(*it);
  }
  std::string options = fmt::format("lowerdir={},upperdir={},workdir={}", lowers, escape_layer(plan.upper),
                                    escape_layer(plan.work));
  // Its messages go to a memfd: the daemon it leaves behind keeps its
  // stderr open, so a pipe would never reach end-of-file.
  Fd log(::memfd_create("fuse-overlayfs-log", MFD_CLOEXEC));
  pid_t pid = ::fork();
  if (pid < 0) {
    return fail(fmt::format("fuse-overlayfs: fork: {}", errno_text(errno)));
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(log ? log.get() : devnull, 2);
    const char* argv[] = {plan.fuse_overlayfs.c_str(), "-o", options.c_str(), plan.merged.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return {};
  }
  std::string text;
  char buffer[512];
  ssize_t n = log ? ::pread(log.get(), buffer, sizeof(buffer), 0) : 0;
  if (n > 0) {
    text.assign(buffer, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    std::replace(text.begin(), text.end(), '\n', ' ');
  }
  return fail(fmt::format("fuse-overlayfs: exit status {}{}",
                          WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
                          text.empty() ? "" : ": " + text));
}

Result<void> loopback_up()
{
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return fail(fmt::format("network: socket: {}", errno_text(errno)));
  }
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  TRY(sys(::ioctl(sock.get(), SIOCGIFFLAGS, &ifr), "network: get flags of lo"));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  return sys(::ioctl(sock.get(), SIOCSIFFLAGS, &ifr), "network: bring lo up");
}

class Init
{
public:
  Init(const InitPlan& plan, const InitFds& fds) : m_plan(plan), m_fds(fds) {}

  Result<void> setup();
  Result<ExitStatus> run_command();
  Result<void> teardown();

private:
  Result<RootfsDriver> mount_rootfs();
  Result<void> mount_at(const char* source, const std::string& target, NodeKind kind, const char* fstype,
                        unsigned long flags, const char* data, std::string_view what);
  Result<void> make_read_only(const std::string& target);
  Result<void> setup_dev();
  Result<void> setup_mounts();
  Result<void> pivot();
  [[noreturn]] void exec_child(const ResolvedUser& user);

  const InitPlan& m_plan;
  const InitFds& m_fds;
  RootfsDriver m_driver = RootfsDriver::overlay;
  Fd m_root;
  Fd m_upper;
  std::vector<std::string> m_created; // mount points we made, to remove again
  std::vector<std::string> m_mounted; // mount targets, to unmount before that
  std::set<pid_t> m_helpers;          // fuse-overlayfs daemons to spare
  Snapshot m_snapshot;
};

Result<RootfsDriver> Init::mount_rootfs()
{
  auto want = m_plan.driver;
  if (want == RootfsDriver::automatic || want == RootfsDriver::overlay) {
    auto ok = mount_native_overlay(m_plan);
    if (ok) {
      return RootfsDriver::overlay;
    }
    if (want == RootfsDriver::overlay) {
      return tl::unexpected(ok.error());
    }
    report(m_fds.report, 'N',
           fmt::format("sandbox: native overlayfs failed ({}); trying fuse-overlayfs", ok.error()));
  }
  if (want == RootfsDriver::automatic || want == RootfsDriver::fuse_overlayfs) {
    auto ok = mount_fuse_overlayfs(m_plan);
    if (ok) {
      return RootfsDriver::fuse_overlayfs;
    }
    if (want == RootfsDriver::fuse_overlayfs) {
      return tl::unexpected(ok.error());
    }
    report(m_fds.report, 'N', fmt::format("sandbox: {}; using a copy-and-diff snapshot", ok.error()));
  }
  Fd merged(::open(m_plan.merged.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!merged) {
    return fail(fmt::format("open \"{}\": {}", m_plan.merged.string(), errno_text(errno)));
  }
  auto snapshot = snapshot_populate(m_plan.lower_dirs, merged.get());
  if (!snapshot) {
    return tl::unexpected(snapshot.error());
  }
  m_snapshot = std::move(*snapshot);
  // pivot_root needs a mount point.
  TRY(sys(::mount(m_plan.merged.c_str(), m_plan.merged.c_str(), nullptr, MS_BIND | MS_REC, nullptr),
          "bind the snapshot onto itself"));
  return RootfsDriver::copy;
}

Result<void> Init::mount_at(const char* source, const std::string& target, NodeKind kind, const char* fstype,
                            unsigned long flags, const char* data, std::string_view what)
{
  auto fd = make_in_root(m_root.get(), target, kind, kind == NodeKind::directory ? 0755 : 0644, m_created);
  if (!fd) {
    return fail(fmt::format("{}: {}", what, fd.error()));
  }
  if (::mount(source, fd_path(fd->get()).c_str(), fstype, flags, data) != 0) {
    return fail(fmt::format("{}: mount on \"/{}\": {}", what, normalize_relative(target), errno_text(errno)));
  }
  m_mounted.push_back(normalize_relative(target));
  return {};
}

Result<void> Init::make_read_only(const std::string& target)
{
  auto fd = open_in_root(m_root.get(), target, O_PATH);
  if (!fd) {
    return tl::unexpected(fd.error());
  }
  // mount_setattr rather than a MS_REMOUNT|MS_RDONLY bind remount: it
  // changes only this attribute, while a remount must repeat the nosuid,
  // nodev and noexec flags the host locked on the source, or fail with EPERM.
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(fd->get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
    return fail(fmt::format("make \"/{}\" read-only: {}", normalize_relative(target), errno_text(errno)));
  }
  return {};
}

Result<void> Init::setup_dev()
{
  TRY(mount_at("tmpfs", "dev", NodeKind::directory, "tmpfs", MS_NOSUID | MS_STRICTATIME,
               "mode=755,size=65536k", "/dev"));
  // From here on the paths are inside our fresh tmpfs.
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string target = fmt::format("dev/{}", name);
    std::string source = fmt::format("/dev/{}", name);
    std::vector<std::string> ignored;
    auto fd = make_in_root(m_root.get(), target, NodeKind::file, 0666, ignored);
    if (!fd) {
      return tl::unexpected(fd.error());
    }
    if (::mount(source.c_str(), fd_path(fd->get()).c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return fail(fmt::format("/dev: bind \"{}\": {}", source, errno_text(errno)));
    }
  }
  TRY(mount_at("devpts", "dev/pts", NodeKind::directory, "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=0620", "/dev/pts"));
  TRY(mount_at("shm", "dev/shm", NodeKind::directory, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
               "mode=1777,size=65536k", "/dev/shm"));
  auto dev = open_in_root(m_root.get(), "dev", O_PATH | O_DIRECTORY);
  if (!dev) {
    return tl::unexpected(dev.error());
  }
  const std::pair<const char*, const char*> links[] = {{"ptmx", "pts/ptmx"},
                                                       {"fd", "/proc/self/fd"},
                                                       {"stdin", "/proc/self/fd/0"},
                                                       {"stdout", "/proc/self/fd/1"},
                                                       {"stderr", "/proc/self/fd/2"}};
  for (const auto& [name, target] : links) {
    TRY(sys(::symlinkat(target, dev->get(), name), fmt::format("/dev: symlink {}", name)));
  }
  // The mounts under /dev go with it.
  m_mounted.resize(m_mounted.size() - 2);
  return {};
}

Result<void> Init::setup_mounts()
{
  TRY(mount_at("proc", "proc", NodeKind::directory, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr,
               "/proc"));
  TRY(setup_dev());
  if (m_plan.network == Network::host) {
    for (const char* file : {"/etc/resolv.conf", "/etc/hosts"}) {
      if (::access(file, R_OK) != 0) {
        continue;
      }
      TRY(mount_at(file, file, NodeKind::file, nullptr, MS_BIND, nullptr, file));
      TRY(make_read_only(file));
    }
  }
  size_t secret_index = 0;
  for (const auto& mount : m_plan.mounts) {
    if (const auto* bind = std::get_if<BindMount>(&mount)) {
      struct stat st;
      if (::stat(bind->source.c_str(), &st) != 0) {
        int err = errno;
        return fail(fmt::format("bind mount \"{}\": {}{}", bind->source.string(), errno_text(err),
                                err == EACCES
                                    ? fmt::format(" (container root is host uid {}: it must be able to "
                                                  "search the directories above it)",
                                                  m_plan.root_host_uid)
                                    : ""));
      }
      auto kind = S_ISDIR(st.st_mode) ? NodeKind::directory : NodeKind::file;
      TRY(mount_at(bind->source.c_str(), bind->target, kind, nullptr, MS_BIND | MS_REC, nullptr,
                   fmt::format("bind mount \"{}\"", bind->source.string())));
      if (bind->access == Access::read_only) {
        TRY(make_read_only(bind->target));
      }
    } else if (const auto* tmpfs = std::get_if<TmpfsMount>(&mount)) {
      std::string data =
          tmpfs->size_bytes ? fmt::format("mode=1777,size={}", tmpfs->size_bytes) : "mode=1777";
      TRY(mount_at("tmpfs", tmpfs->target, NodeKind::directory, "tmpfs", MS_NOSUID | MS_NODEV, data.c_str(),
                   "tmpfs mount"));
    } else if (const auto* cache = std::get_if<CacheMount>(&mount)) {
      TRY(mount_at(cache->source.c_str(), cache->target, NodeKind::directory, nullptr, MS_BIND | MS_REC,
                   nullptr, fmt::format("cache mount \"{}\"", cache->source.string())));
    } else if (const auto* secret = std::get_if<SecretMount>(&mount)) {
      // The bytes go to a tmpfs outside the rootfs, then that one file is
      // bound read-only onto the target: the upper dir sees at most an
      // empty mount point, removed after the run.
      if (secret_index == 0) {
        TRY(sys(::mount("tmpfs", m_plan.secrets_staging.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "mode=0700,size=16m"),
                "secrets: mount tmpfs"));
      }
      fs::path staged = m_plan.secrets_staging / std::to_string(secret_index);
      Fd fd(::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      const std::string& data = m_plan.secret_data[secret_index++];
      if (!fd || !write_all(fd.get(), data.data(), data.size()) ||
          ::fchown(fd.get(), secret->uid, secret->gid) != 0 || ::fchmod(fd.get(), secret->mode) != 0) {
        return fail(fmt::format("secret \"{}\": stage: {}", secret->id, errno_text(errno)));
      }
      std::string target = secret->target.empty() ? "run/secrets/" + secret->id : secret->target;
      TRY(mount_at(staged.c_str(), target, NodeKind::file, nullptr, MS_BIND, nullptr,
                   fmt::format("secret \"{}\"", secret->id)));
      TRY(make_read_only(target));
    }
  }
  return {};
}

Result<void> Init::pivot()
{
  // pivot_root rather than chroot: the host's tree is detached from this
  // mount namespace entirely, so no chroot escape reaches it.
  TRY(sys(::fchdir(m_root.get()), "enter the rootfs"));
  TRY(sys(static_cast<int>(::syscall(SYS_pivot_root, ".", ".")), "pivot_root"));
  TRY(sys(::umount2(".", MNT_DETACH), "detach the old root"));
  TRY(sys(::chdir("/"), "chdir /"));
  m_root.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!m_root) {
    return fail(fmt::format("open the new root: {}", errno_text(errno)));
  }
  return {};
}

Result<void> Init::setup()
{
  TRY(sys(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make mounts private"));
  if (m_plan.network == Network::none) {
    TRY(loopback_up());
  }
  TRY(sys(::sethostname(m_plan.hostname.data(), m_plan.hostname.size()), "sethostname"));
  m_upper.reset(::open(m_plan.upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!m_upper) {
    return fail(fmt::format("open upper dir \"{}\": {}", m_plan.upper.string(), errno_text(errno)));
  }
  // A layer container root cannot reach is a setup problem, not a reason to
  // try the next rootfs driver.
  for (size_t i = 0; i < m_plan.lower_dirs.size(); ++i) {
    Fd fd(::open(m_plan.lower_dirs[i].c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      return fail(fmt::format("layer directory \"{}\": {} inside the sandbox (container root is host uid {}; "
                              "it must be able to read the directory)",
                              m_plan.lower_shown.at(i).string(), errno_text(errno), m_plan.root_host_uid));
    }
  }
  auto driver = mount_rootfs();
  if (!driver) {
    return tl::unexpected(driver.error());
  }
  m_driver = *driver;
  report(m_fds.report, 'D', driver_name(m_driver));
  m_root.reset(::open(m_plan.merged.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!m_root) {
    return fail(fmt::format("open the rootfs \"{}\": {}", m_plan.merged.string(), errno_text(errno)));
  }
  // A fuse-overlayfs daemon is the only process here besides us so far.
  if (DIR* proc = ::opendir("/proc")) {
    while (struct dirent* e = ::readdir(proc)) {
      if (auto pid = parse_u64(e->d_name); pid && *pid != 1) {
        m_helpers.insert(static_cast<pid_t>(*pid));
      }
    }
    ::closedir(proc);
  }
  TRY(setup_mounts());
  return pivot();
}

void drop_capabilities(uint32_t uid)
{
  int last = CAP_LAST_CAP;
  if (auto text = read_file("/proc/sys/kernel/cap_last_cap"); text) {
    last = static_cast<int>(
        parse_u64(std::string_view(*text).substr(0, text->find('\n'))).value_or(CAP_LAST_CAP));
  }
  uint64_t keep = 0;
  for (int cap : k_kept_caps) {
    keep |= uint64_t{1} << cap;
  }
  for (int cap = 0; cap <= last; ++cap) {
    if (!(keep & (uint64_t{1} << cap))) {
      ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (uid == 0) {
    // Raw capset: no libcap for one call.
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    data[0].effective = data[0].permitted = static_cast<uint32_t>(keep);
    data[1].effective = data[1].permitted = static_cast<uint32_t>(keep >> 32);
    ::syscall(SYS_capset, &header, data);
  }
}

[[noreturn]] void Init::exec_child(const ResolvedUser& user)
{
  auto die = [&](std::string message) {
    report(m_fds.report, 'E', message);
    ::_exit(127);
  };
  if (m_plan.stdin_mode == Stdin::null) {
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull < 0 || ::dup2(devnull, 0) < 0) {
      die(fmt::format("open /dev/null: {}", errno_text(errno)));
    }
  }
  if (::dup2(m_fds.out, 1) < 0 || ::dup2(m_fds.err, 2) < 0) {
    die(fmt::format("redirect output: {}", errno_text(errno)));
  }
  // Everything else (the report pipe included) closes on exec.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::signal(SIGPIPE, SIG_DFL);
  drop_capabilities(user.uid);
  if (::setgroups(user.groups.size(), user.groups.data()) != 0 &&
      !(m_plan.single_id && user.groups.empty())) {
    die(fmt::format("set supplementary groups of user \"{}\": {}", m_plan.user_spec, errno_text(errno)));
  }
  if (::setresgid(user.gid, user.gid, user.gid) != 0 || ::setresuid(user.uid, user.uid, user.uid) != 0) {
    int err = errno;
    die(fmt::format("switch to user {}:{}: {}{}", user.uid, user.gid, errno_text(err),
                    err == EINVAL ? " (the id is not mapped in the sandbox's user namespace)" : ""));
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    die(fmt::format("PR_SET_NO_NEW_PRIVS: {}", errno_text(errno)));
  }
  if (::chdir(m_plan.workdir.c_str()) != 0) {
    die(fmt::format("chdir to working directory \"{}\": {}", m_plan.workdir, errno_text(errno)));
  }
  std::vector<std::string> env = m_plan.env;
  bool has_home = false;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env) {
    has_home = has_home || starts_with(e, "HOME=");
    if (starts_with(e, "PATH=")) {
      path = e.substr(5);
    }
  }
  if (!has_home) {
    env.push_back("HOME=" + user.home);
  }
  std::vector<char*> envp;
  for (auto& e : env) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> args = m_plan.argv;
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  const std::string& program = m_plan.argv[0];
  int err = ENOENT;
  if (program.find('/') != std::string::npos) {
    ::execve(program.c_str(), argv.data(), envp.data());
    err = errno;
  } else {
    // execvpe would search kiln's own PATH, not the container's.
    for (auto dir : split(path, ':')) {
      std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, program);
      ::execve(candidate.c_str(), argv.data(), envp.data());
      if (errno != ENOENT && errno != ENOTDIR) {
        err = errno;
      }
    }
  }
  report(m_fds.report, 'E',
         fmt::format("exec \"{}\": {}{}", program, errno_text(err),
                     err == ENOENT && program.find('/') == std::string::npos
                         ? fmt::format(" in PATH {}", path)
                         : ""));
  ::_exit(127);
}

Result<ExitStatus> Init::run_command()
{
  std::string passwd = read_in_root(m_root.get(), "etc/passwd").value_or("");
  std::string group = read_in_root(m_root.get(), "etc/group").value_or("");
  auto user = resolve_user(m_plan.user_spec, passwd, group);
  if (!user) {
    return tl::unexpected(user.error());
  }
  std::vector<std::string> workdir_created;
  if (auto dir = make_in_root(m_root.get(), m_plan.workdir, NodeKind::directory, 0755, workdir_created);
      !dir) {
    return fail(fmt::format("working directory: {}", dir.error()));
  }
  pid_t child = ::fork();
  if (child < 0) {
    return fail(fmt::format("fork the command: {}", errno_text(errno)));
  }
  if (child == 0) {
    exec_child(*user);
  }
  ::close(m_fds.out);
  ::close(m_fds.err);
  // As PID 1 we inherit every orphan; reap them until the command ends.
  int status = 0;
  for (;;) {
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid == child) {
      break;
    }
    if (pid < 0 && errno != EINTR) {
      return fail(fmt::format("wait for the command: {}", errno_text(errno)));
    }
  }
  ExitStatus result;
  if (WIFEXITED(status)) {
    result.code = WEXITSTATUS(status);
  } else {
    result.signal = WTERMSIG(status);
  }
  return result;
}

Result<void> Init::teardown()
{
  // What the command left running must not write while we clean up.
  if (DIR* proc = ::opendir("/proc")) {
    while (struct dirent* e = ::readdir(proc)) {
      if (auto pid = parse_u64(e->d_name); pid && *pid != 1 && !m_helpers.count(static_cast<pid_t>(*pid))) {
        ::kill(static_cast<pid_t>(*pid), SIGKILL);
      }
    }
    ::closedir(proc);
  }
  for (auto it = m_mounted.rbegin(); it != m_mounted.rend(); ++it) {
    ::umount2(("/" + *it).c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
  }
  remove_created(m_root.get(), m_created);
  if (m_driver == RootfsDriver::copy) {
    Fd root(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
      return fail(fmt::format("open the rootfs: {}", errno_text(errno)));
    }
    return snapshot_diff(m_snapshot, root.get(), m_upper.get());
  }
  return {};
}

} // namespace

[[noreturn]] void sandbox_init(const InitPlan& plan, const InitFds& fds)
{
  // PID 1 holds a copy of kiln's memory (keys, secrets of other steps): the
  // command runs as the same container uid, so without this it could read
  // that memory through /proc/1/mem.
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  Init init(plan, fds);
  auto ready = init.setup();
  if (!ready) {
    report(fds.report, 'E', ready.error());
    ::_exit(1);
  }
  auto status = init.run_command();
  if (!status) {
    report(fds.report, 'E', status.error());
    ::_exit(1);
  }
  if (auto done = init.teardown(); !done) {
    report(fds.report, 'E', fmt::format("after the command: {}", done.error()));
    ::_exit(1);
  }
  report(fds.report, 'X', fmt::format("{} {}", status->code, status->signal));
  ::_exit(0);
}

} // namespace kiln::builder::detail
