#include "builder/sandbox.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "builder/nsexec.hpp"
#include "builder/outputtail.hpp"
#include "builder/sandbox_init.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace kiln::builder {

Command Command::shell_form(std::string_view script, std::vector<std::string> shell)
{
  shell.emplace_back(script);
  return Command{std::move(shell)};
}

std::string_view driver_name(RootfsDriver driver)
{
  switch (driver) {
  case RootfsDriver::automatic:
    return "auto";
  case RootfsDriver::overlay:
    return "overlayfs";
  case RootfsDriver::fuse_overlayfs:
    return "fuse-overlayfs";
  case RootfsDriver::copy:
    return "copy";
  }
  return "?";
}

std::string ExitStatus::describe() const
{
  if (cancelled) {
    return "cancelled";
  }
  if (signal != 0) {
    const char* name = ::sigabbrev_np(signal);
    return fmt::format("killed by signal {} (SIG{})", signal, name ? name : "?");
  }
  return fmt::format("exit code {}", code);
}

UpperDir::UpperDir(fs::path run_dir, IdMap map) : m_run_dir(std::move(run_dir)), m_map(std::move(map)) {}

UpperDir::UpperDir(UpperDir&& other) noexcept
    : m_run_dir(std::move(other.m_run_dir)), m_map(std::move(other.m_map))
{
  other.m_run_dir.clear();
}

UpperDir& UpperDir::operator=(UpperDir&& other) noexcept
{
  if (this != &other) {
    (void)remove();
    m_run_dir = std::move(other.m_run_dir);
    m_map = std::move(other.m_map);
    other.m_run_dir.clear();
  }
  return *this;
}

UpperDir::~UpperDir()
{
  (void)remove();
}

fs::path UpperDir::path() const
{
  return m_run_dir.empty() ? fs::path() : m_run_dir / "upper";
}

Result<void> UpperDir::remove()
{
  if (m_run_dir.empty()) {
    return {};
  }
  auto removed = remove_tree(m_run_dir, m_map);
  m_run_dir.clear();
  return removed;
}

namespace {

// The run's temporary directory: run_dir/{upper,work,merged[,secrets,empty]}.
// As root, the directories container root writes are handed to the host id
// that container root maps to; the run dir itself is made searchable so
// that id can reach them.
Result<fs::path> make_run_dir(const RunOptions& options, const IdMap& map, bool need_secrets, bool need_empty)
{
  std::error_code ec;
  fs::create_directories(options.scratch_dir, ec);
  std::string pattern = (options.scratch_dir / "kiln-run-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return fail(fmt::format("sandbox: create a run directory in \"{}\": {}", options.scratch_dir.string(),
                            errno_text(errno)));
  }
  fs::path run_dir = pattern;
  ::chmod(run_dir.c_str(), 0711);
  std::vector<std::string> dirs = {"upper", "work", "merged"};
  if (need_secrets) {
    dirs.emplace_back("secrets");
  }
  if (need_empty) {
    dirs.emplace_back("empty");
  }
  uint32_t root_uid = map.uids.to_host(0).value_or(::geteuid());
  uint32_t root_gid = map.gids.to_host(0).value_or(::getegid());
  for (const auto& name : dirs) {
    fs::path dir = run_dir / name;
    if (::mkdir(dir.c_str(), 0755) != 0 ||
        (::geteuid() == 0 && ::chown(dir.c_str(), root_uid, root_gid) != 0)) {
      int err = errno;
      (void)remove_tree(run_dir, map);
      return fail(fmt::format("sandbox: create \"{}\": {}", dir.string(), errno_text(err)));
    }
  }
  return run_dir;
}

std::optional<fs::path> find_host_program(std::string_view name)
{
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/bin:/bin";
  for (auto dir : split(path, ':')) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

struct Pipe
{
  Fd read;
  Fd write;
};

Result<Pipe> make_pipe()
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return fail(fmt::format("sandbox: pipe: {}", errno_text(errno)));
  }
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

// What the sandbox's processes reported (see detail::report).
struct Reports
{
  std::vector<std::string> errors;
  std::optional<ExitStatus> status;
  pid_t init_pid = -1;
  RootfsDriver driver = RootfsDriver::overlay;
  std::string pending;

  void feed(std::string_view chunk, const RunOptions& options)
  {
    pending.append(chunk);
    size_t end;
    while ((end = pending.find('\0')) != std::string::npos) {
      std::string record = pending.substr(0, end);
      pending.erase(0, end + 1);
      if (record.empty()) {
        continue;
      }
      std::string text = record.substr(1);
      switch (record[0]) {
      case 'E':
        errors.push_back(text);
        break;
      case 'N':
        if (options.notice) {
          options.notice(text);
        }
        break;
      case 'D':
        for (auto d : {RootfsDriver::overlay, RootfsDriver::fuse_overlayfs, RootfsDriver::copy}) {
          if (driver_name(d) == text) {
            driver = d;
          }
        }
        if (options.notice) {
          options.notice(fmt::format("sandbox: rootfs on {}", text));
        }
        break;
      case 'P':
        init_pid = static_cast<pid_t>(parse_u64(text).value_or(0));
        break;
      case 'X': {
        auto fields = split(text, ' ');
        ExitStatus s;
        s.code = static_cast<int>(parse_u64(fields[0]).value_or(255));
        s.signal = fields.size() > 1 ? static_cast<int>(parse_u64(fields[1]).value_or(0)) : 0;
        status = s;
        break;
      }
      default:
        break;
      }
    }
  }
};

int namespace_flags(Network network)
{
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (network == Network::none) {
    flags |= CLONE_NEWNET;
  }
  return flags;
}

// Names the plan's host paths relative to an anchor above them (see
// PathAnchor): as root, container root may not search the directories
// above kiln's cache, where the layers, the run dir and the cache mounts
// are. A bind mount's source counts only when it lies below the anchor
// anyway (another stage's files): the anchor must be a directory container
// root can search, and above both a context and the cache there is often
// none (/root).
Result<PathAnchor> anchor_plan(detail::InitPlan& plan, const fs::path& run_dir)
{
  std::vector<fs::path> paths = plan.lower_dirs;
  paths.push_back(run_dir);
  for (const auto& mount : plan.mounts) {
    if (const auto* cache = std::get_if<CacheMount>(&mount)) {
      paths.push_back(cache->source);
    }
  }
  auto anchor = PathAnchor::open(paths);
  if (!anchor) {
    return fail(fmt::format("sandbox: {}", anchor.error()));
  }
  plan.lower_shown = plan.lower_dirs;
  for (auto& lower : plan.lower_dirs) {
    lower = (*anchor)(lower);
  }
  plan.upper = (*anchor)(run_dir / "upper");
  plan.work = (*anchor)(run_dir / "work");
  plan.merged = (*anchor)(run_dir / "merged");
  plan.secrets_staging = (*anchor)(run_dir / "secrets");
  for (auto& mount : plan.mounts) {
    if (auto* cache = std::get_if<CacheMount>(&mount)) {
      cache->source = (*anchor)(cache->source);
    } else if (auto* bind = std::get_if<BindMount>(&mount)) {
      bind->source = (*anchor)(bind->source); // a stage's files are below it
    }
  }
  return anchor;
}

} // namespace

Result<RunResult> run(const RootfsLayers& layers, const Command& command, const Environment& env,
                      const User& user, const std::vector<SandboxMount>& mounts, const RunOptions& options)
{
  if (command.argv.empty() || command.argv[0].empty()) {
    return fail("sandbox: empty command");
  }
  IdMap map = current_id_map();
  if (!map.warning.empty() && options.notice) {
    options.notice(map.warning);
  }

  detail::InitPlan plan;
  for (const auto& lower : layers.lower_dirs) {
    std::error_code ec;
    fs::path absolute = fs::absolute(lower, ec);
    struct stat st;
    if (ec || ::stat(absolute.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return fail(fmt::format("sandbox: layer directory \"{}\": {}", lower.string(),
                              ec      ? ec.message()
                              : errno ? errno_text(errno)
                                      : "not a directory"));
    }
    plan.lower_dirs.push_back(absolute);
  }
  size_t secrets = 0;
  for (const auto& mount : mounts) {
    if (const auto* secret = std::get_if<SecretMount>(&mount)) {
      // Read here, as the invoking user: inside, the host file may be
      // owned by an id the sandbox does not map.
      auto data = read_file(secret->source);
      if (!data) {
        return fail(fmt::format("secret \"{}\": {}", secret->id, data.error()));
      }
      plan.secret_data.push_back(std::move(*data));
      ++secrets;
    } else if (const auto* cache = std::get_if<CacheMount>(&mount)) {
      std::error_code ec;
      if (fs::create_directories(cache->source, ec) && ::geteuid() == 0) {
        ::chown(cache->source.c_str(), map.uids.to_host(0).value_or(0), map.gids.to_host(0).value_or(0));
      }
      if (ec) {
        return fail(fmt::format("cache mount \"{}\": {}", cache->source.string(), ec.message()));
      }
    }
  }
  auto run_dir = make_run_dir(options, map, secrets > 0, plan.lower_dirs.empty());
  if (!run_dir) {
    return tl::unexpected(run_dir.error());
  }
  UpperDir upper(*run_dir, map);
  if (plan.lower_dirs.empty()) {
    // overlayfs needs a lower layer; FROM scratch has none.
    plan.lower_dirs.push_back(*run_dir / "empty");
  }
  plan.fuse_overlayfs = find_host_program("fuse-overlayfs").value_or(fs::path());
  plan.driver = options.driver;
  plan.argv = command.argv;
  plan.env = env.entries;
  bool has_path = false;
  for (const auto& e : plan.env) {
    has_path = has_path || starts_with(e, "PATH=");
  }
  if (!has_path) {
    plan.env.emplace_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  }
  plan.user_spec = user.spec;
  plan.workdir = options.workdir.empty() ? "/" : options.workdir;
  plan.network = options.network;
  plan.hostname = options.hostname;
  plan.mounts = mounts;
  plan.stdin_mode = options.stdin_mode;
  plan.single_id = map.single_id();
  plan.root_host_uid = map.uids.to_host(0).value_or(0);
  auto anchor = anchor_plan(plan, *run_dir);
  if (!anchor) {
    return tl::unexpected(anchor.error());
  }

  auto report = make_pipe();
  auto out = make_pipe();
  auto err = make_pipe();
  for (const auto* p : {&report, &out, &err}) {
    if (!*p) {
      return tl::unexpected(p->error());
    }
  }
  detail::InitFds fds{report->write.get(), out->write.get(), err->write.get()};
  int flags = namespace_flags(options.network);

  // S: the user namespace's first process. It makes the other namespaces
  // (owned by its user namespace) and forks PID 1 of the new PID namespace;
  // unshare(CLONE_NEWPID) only moves later children there.
  auto leader = spawn_in_user_namespace(map, [&]() -> int {
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    report->read.reset();
    out->read.reset();
    err->read.reset();
    if (auto entered = anchor->enter(); !entered) {
      detail::report(fds.report, 'E',
                     fmt::format("{} (container root, host uid {}, must be able to search it)",
                                 entered.error(), plan.root_host_uid));
      return 1;
    }
    if (::unshare(flags) != 0) {
      detail::report(fds.report, 'E',
                     fmt::format("unshare(mount, PID, IPC, UTS{} namespaces): {}",
                                 options.network == Network::none ? ", network" : "", errno_text(errno)));
      return 1;
    }
    pid_t init = ::fork();
    if (init < 0) {
      detail::report(fds.report, 'E', fmt::format("fork PID 1: {}", errno_text(errno)));
      return 1;
    }
    if (init == 0) {
      // When S dies (kiln killed it), PID 1 dies, and with it the
      // whole PID namespace.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      detail::sandbox_init(plan, fds);
    }
    detail::report(fds.report, 'P', std::to_string(init));
    ::close(fds.out);
    ::close(fds.err);
    int status = 0;
    while (::waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  });
  report->write.reset();
  out->write.reset();
  err->write.reset();
  if (!leader) {
    return fail(fmt::format("sandbox: {}", leader.error()));
  }

  OutputTail tail(options.tail_lines);
  Reports reports;
  bool cancelled = false;
  auto stop = [&] {
    if (reports.init_pid > 0) {
      ::kill(reports.init_pid, SIGKILL);
    }
    ::kill(*leader, SIGKILL);
  };
  std::vector<int> open = {out->read.get(), err->read.get(), report->read.get()};
  while (open[0] >= 0 || open[1] >= 0 || open[2] >= 0) {
    struct pollfd pfds[4];
    for (int i = 0; i < 3; ++i) {
      pfds[i] = {open[i], POLLIN, 0};
    }
    pfds[3] = {cancelled ? -1 : options.cancel_fd, POLLIN, 0};
    if (::poll(pfds, 4, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      stop();
      break;
    }
    if (pfds[3].revents != 0) {
      cancelled = true;
      stop();
    }
    for (int i = 0; i < 3; ++i) {
      if (pfds[i].revents == 0) {
        continue;
      }
      char buffer[16384];
      ssize_t n = ::read(open[i], buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        open[i] = -1;
        continue;
      }
      std::string_view chunk(buffer, static_cast<size_t>(n));
      if (i == 2) {
        reports.feed(chunk, options);
        continue;
      }
      tail.feed(chunk);
      if (options.output) {
        options.output(i == 0 ? OutputStream::out : OutputStream::err, chunk);
      }
    }
  }
  int status = 0;
  while (::waitpid(*leader, &status, 0) < 0 && errno == EINTR) {
  }

  RunResult result;
  result.driver = reports.driver;
  result.last_lines = tail.lines();
  if (cancelled) {
    result.status.cancelled = true;
    (void)upper.remove();
    result.upper = std::move(upper);
    return result;
  }
  if (!reports.errors.empty()) {
    return fail(fmt::format("sandbox: {}", reports.errors.front()));
  }
  if (!reports.status) {
    return fail(fmt::format("sandbox: PID 1 ended without a status ({})",
                            WIFEXITED(status) ? fmt::format("exit code {}", WEXITSTATUS(status))
                                              : fmt::format("signal {}", WTERMSIG(status))));
  }
  result.status = *reports.status;
  if (!result.status.success() && options.on_failure == OnFailure::remove_upper) {
    if (auto removed = upper.remove(); !removed) {
      return fail(fmt::format("sandbox: {}", removed.error()));
    }
  } else {
    // The work and mount-point dirs are empty husks now; only upper matters.
    (void)remove_tree(*run_dir / "work", map);
    ::rmdir((*run_dir / "merged").c_str());
  }
  result.upper = std::move(upper);
  return result;
}

namespace {

std::atomic<int> g_cancel_write{-1};
std::atomic<int> g_cancel_read{-1};
std::atomic<int> g_signal{0};
struct sigaction g_old_int;
struct sigaction g_old_term;

void on_cancel_signal(int sig)
{
  g_signal = sig;
  int fd = g_cancel_write;
  if (fd >= 0) {
    char byte = static_cast<char>(sig);
    (void)!::write(fd, &byte, 1);
  }
}

} // namespace

SignalCancel::SignalCancel()
{
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw Fatal(fmt::format("signal pipe: {}", errno_text(errno)));
  }
  g_cancel_read = fds[0];
  g_cancel_write = fds[1];
  g_signal = 0;
  struct sigaction action = {};
  action.sa_handler = on_cancel_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &g_old_int);
  ::sigaction(SIGTERM, &action, &g_old_term);
}

SignalCancel::~SignalCancel()
{
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::close(g_cancel_write.exchange(-1));
  ::close(g_cancel_read.exchange(-1));
}

int SignalCancel::cancel_fd() const
{
  return g_cancel_read;
}

int SignalCancel::signal() const
{
  return g_signal;
}

} // namespace kiln::builder
