#include "builder/idmap.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/core.h>
#include <map>
#include <mutex>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;

namespace kiln::builder {

std::optional<uint32_t> IdMapping::to_host(uint32_t container_id) const
{
  for (const auto& r : ranges) {
    if (container_id >= r.container && container_id - r.container < r.count) {
      return r.host + (container_id - r.container);
    }
  }
  return std::nullopt;
}

std::optional<uint32_t> IdMapping::to_container(uint32_t host_id) const
{
  for (const auto& r : ranges) {
    if (host_id >= r.host && host_id - r.host < r.count) {
      return r.container + (host_id - r.host);
    }
  }
  return std::nullopt;
}

uint64_t IdMapping::size() const
{
  uint64_t total = 0;
  for (const auto& r : ranges) {
    total += r.count;
  }
  return total;
}

std::string IdMapping::proc_text() const
{
  std::string text;
  for (const auto& r : ranges) {
    text += fmt::format("{} {} {}\n", r.container, r.host, r.count);
  }
  return text;
}

std::vector<SubordinateRange> parse_subordinate_ids(std::string_view text, std::string_view name, uint32_t id)
{
  // subuid(5): one "login:start:count" per line; newuidmap also accepts the
  // numeric uid in place of the login. Malformed lines are skipped as
  // newuidmap skips them.
  std::vector<SubordinateRange> result;
  std::string id_text = std::to_string(id);
  for (auto line : split(text, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() != 3 || (fields[0] != name && fields[0] != id_text)) {
      continue;
    }
    auto start = parse_u64(fields[1]);
    auto count = parse_u64(fields[2]);
    if (!start || !count || *count == 0 || *start > UINT32_MAX || *count > UINT32_MAX - *start) {
      continue;
    }
    result.push_back({static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)});
  }
  return result;
}

namespace {

// Container ids 0..limit-1 laid over the subordinate ranges in order,
// starting at container id `first`.
std::vector<IdRange> lay_ranges(const std::vector<SubordinateRange>& subs, uint32_t first, uint32_t limit)
{
  std::vector<IdRange> ranges;
  uint32_t next = first;
  for (const auto& s : subs) {
    if (next >= limit) {
      break;
    }
    uint32_t count = std::min(s.count, limit - next);
    ranges.push_back({next, s.start, count});
    next += count;
  }
  return ranges;
}

IdMapping map_one(uint32_t id, const std::vector<SubordinateRange>& subs, bool root, bool helpers)
{
  IdMapping m;
  if (root) {
    if (!subs.empty()) {
      m.ranges = lay_ranges(subs, 0, k_container_id_count);
      m.source = IdMapSource::root_subordinate;
    } else {
      m.ranges = {{0, k_root_fixed_host_base, k_container_id_count}};
      m.source = IdMapSource::root_fixed;
    }
    return m;
  }
  m.ranges = {{0, id, 1}};
  if (!subs.empty() && helpers) {
    auto rest = lay_ranges(subs, 1, k_container_id_count);
    m.ranges.insert(m.ranges.end(), rest.begin(), rest.end());
    m.source = IdMapSource::subordinate;
  } else {
    m.source = IdMapSource::single;
  }
  return m;
}

std::optional<fs::path> find_program(std::string_view name)
{
  std::string path = ::getenv("PATH") ? ::getenv("PATH") : "";
  path += ":/usr/bin:/usr/sbin:/bin:/sbin";
  for (auto dir : split(path, ':')) {
    if (dir.empty()) {
      continue;
    }
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::string user_name(uid_t uid)
{
  struct passwd pw;
  struct passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(uid, &pw, buffer, sizeof(buffer), &found) == 0 && found != nullptr) {
    return pw.pw_name;
  }
  return std::to_string(uid);
}

std::string read_or_empty(const char* path)
{
  auto text = read_file(path);
  return text ? *text : std::string();
}

Result<void> write_proc(pid_t pid, const char* file, const std::string& text)
{
  std::string path = fmt::format("/proc/{}/{}", pid, file);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("open \"{}\": {}", path, errno_text(errno)));
  }
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return fail(
        fmt::format("write \"{}\" ({}): {}", path, text.substr(0, text.find('\n')), errno_text(errno)));
  }
  return {};
}

// newuidmap PID CONTAINER HOST COUNT...; posix_spawn rather than fork so that
// a multithreaded kiln does not copy its address space for a helper.
Result<void> run_map_helper(const char* helper, pid_t pid, const IdMapping& mapping)
{
  auto program = find_program(helper);
  if (!program) {
    return fail(fmt::format("{}: not installed (Debian package uidmap)", helper));
  }
  std::vector<std::string> args{program->string(), std::to_string(pid)};
  for (const auto& r : mapping.ranges) {
    args.push_back(std::to_string(r.container));
    args.push_back(std::to_string(r.host));
    args.push_back(std::to_string(r.count));
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t child = 0;
  int err = ::posix_spawn(&child, argv[0], nullptr, nullptr, argv.data(), environ);
  if (err != 0) {
    return fail(fmt::format("run {}: {}", args[0], errno_text(err)));
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(fmt::format("{} {} {}: failed (status {}); check /etc/{}", helper, pid,
                            mapping.proc_text().substr(0, mapping.proc_text().size() - 1), status,
                            std::string_view(helper) == "newuidmap" ? "subuid" : "subgid"));
  }
  return {};
}

} // namespace

IdMap make_id_map(const IdMapInputs& in)
{
  bool root = in.uid == 0;
  IdMap map;
  map.uids = map_one(in.uid, in.subuids, root, in.have_map_helpers);
  map.gids = map_one(in.gid, in.subgids, root, in.have_map_helpers);
  if (!root && (map.uids.source == IdMapSource::single || map.gids.source == IdMapSource::single)) {
    std::string why;
    if (!in.have_map_helpers && (!in.subuids.empty() || !in.subgids.empty())) {
      why = "newuidmap/newgidmap (package uidmap) are not installed";
    } else {
      why = fmt::format(
          "{} has no range in {}", in.user_name,
          map.uids.source == IdMapSource::single
              ? (map.gids.source == IdMapSource::single ? "/etc/subuid and /etc/subgid" : "/etc/subuid")
              : "/etc/subgid");
    }
    map.warning =
        fmt::format("warning: sandbox: {}, so only container root is mapped: chown to other ids, useradd, "
                    "su/setpriv to a non-root user, RUN as USER non-root and apt (which drops to _apt) "
                    "will fail",
                    why);
  }
  return map;
}

IdMap current_id_map()
{
  IdMapInputs in;
  in.uid = ::geteuid();
  in.gid = ::getegid();
  in.user_name = user_name(in.uid);
  in.subuids = parse_subordinate_ids(read_or_empty("/etc/subuid"), in.user_name, in.uid);
  in.subgids = parse_subordinate_ids(read_or_empty("/etc/subgid"), in.user_name, in.uid);
  in.have_map_helpers = find_program("newuidmap") && find_program("newgidmap");
  return make_id_map(in);
}

Result<void> apply_id_map(const IdMap& map, pid_t pid)
{
  // Order matters: an unprivileged writer must deny setgroups before it may
  // write a gid_map.
  if (map.uids.source == IdMapSource::subordinate) {
    if (auto ok = run_map_helper("newuidmap", pid, map.uids); !ok) {
      return ok;
    }
  } else if (auto ok = write_proc(pid, "uid_map", map.uids.proc_text()); !ok) {
    return ok;
  }
  if (map.gids.source == IdMapSource::subordinate) {
    return run_map_helper("newgidmap", pid, map.gids);
  }
  if (map.gids.source == IdMapSource::single) {
    if (auto ok = write_proc(pid, "setgroups", "deny"); !ok) {
      return ok;
    }
  }
  return write_proc(pid, "gid_map", map.gids.proc_text());
}

namespace {

// The user namespace kiln's own work shares (see UserNamespace::shared): made
// once per map, by a child that is mapped, whose namespace kiln opens before
// the child exits; the open fd keeps the namespace alive.
Result<int> shared_user_namespace(const IdMap& map)
{
  static std::mutex mutex;
  static std::map<std::string, int> namespaces;
  std::string key = map.uids.proc_text() + "|" + map.gids.proc_text();
  std::lock_guard lock(mutex);
  if (auto it = namespaces.find(key); it != namespaces.end()) {
    return it->second;
  }
  int hold[2];
  if (::pipe2(hold, O_CLOEXEC) != 0) {
    return fail(fmt::format("user namespace: pipe: {}", errno_text(errno)));
  }
  Fd hold_read(hold[0]), hold_write(hold[1]);
  int wait_fd = hold_read.get();
  int end_fd = hold_write.get();
  auto pid = spawn_in_user_namespace(
    map,
    [wait_fd, end_fd] {
      ::close(end_fd); // so that the parent's close is end-of-file here
      char byte = 0;
      (void)!::read(wait_fd, &byte, 1);
      return 0;
    },
    UserNamespace::fresh);
  if (!pid) {
    return tl::unexpected(pid.error());
  }
  Fd ns(::open(fmt::format("/proc/{}/ns/user", *pid).c_str(), O_RDONLY | O_CLOEXEC));
  int err = errno;
  hold_write.reset(); // the child reads end-of-file and exits
  while (::waitpid(*pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (!ns) {
    return fail(fmt::format("open the user namespace of process {}: {}", *pid, errno_text(err)));
  }
  return namespaces[key] = ns.release();
}

} // namespace

Result<pid_t> spawn_in_user_namespace(const IdMap& map, const std::function<int()>& fn, UserNamespace which)
{
  int joined = -1;
  if (which == UserNamespace::shared) {
    auto ns = shared_user_namespace(map);
    if (!ns) {
      return tl::unexpected(ns.error());
    }
    joined = *ns;
  }
  int ready[2];
  int go[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0) {
    return fail(fmt::format("user namespace: pipe: {}", errno_text(errno)));
  }
  Fd ready_read(ready[0]), ready_write(ready[1]), go_read(go[0]), go_write(go[1]);
  // fork, not a raw clone3(CLONE_NEWUSER): glibc's fork takes the malloc
  // and stdio locks around the copy, so the child may allocate even when
  // another kiln thread held them; unshare then gives the same namespace.
  pid_t pid = ::fork();
  if (pid < 0) {
    return fail(fmt::format("user namespace: fork: {}", errno_text(errno)));
  }
  if (pid == 0) {
    ready_read.reset();
    go_write.reset();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int err = 0;
    if (joined >= 0) {
      err = ::setns(joined, CLONE_NEWUSER) == 0 ? 0 : errno;
    } else {
      err = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
    }
    (void)!::write(ready_write.get(), &err, sizeof(err));
    char byte = 0;
    if (err != 0 || ::read(go_read.get(), &byte, 1) != 1) {
      ::_exit(125);
    }
    go_read.reset();
    ready_write.reset();
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
      ::_exit(125);
    }
    ::_exit(fn());
  }
  ready_write.reset();
  go_read.reset();
  int err = 0;
  ssize_t n = ::read(ready_read.get(), &err, sizeof(err));
  Result<void> mapped;
  if (n != sizeof(err)) {
    mapped = fail("user namespace: helper process died before unshare");
  } else if (err != 0) {
    mapped = fail(fmt::format("{}(CLONE_NEWUSER): {}", joined >= 0 ? "setns" : "unshare", errno_text(err)));
  } else if (joined < 0) {
    mapped = apply_id_map(map, pid);
  }
  if (mapped) {
    char byte = 1;
    (void)!::write(go_write.get(), &byte, 1);
    return pid;
  }
  go_write.reset();
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return tl::unexpected(mapped.error());
}

Result<int> run_in_user_namespace(const IdMap& map, const std::function<int()>& fn)
{
  auto pid = spawn_in_user_namespace(map, fn, UserNamespace::shared);
  if (!pid) {
    return tl::unexpected(pid.error());
  }
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status)) {
    return fail(fmt::format("user namespace helper killed by signal {}", WTERMSIG(status)));
  }
  return WEXITSTATUS(status);
}

namespace {

// remove_all cannot enter a directory its owner has made unreadable (the
// 0000 "work" dir overlayfs leaves, a layer's 0555 dirs); chmod them first.
std::error_code remove_all_forcing(const fs::path& path)
{
  std::error_code ec;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? std::error_code() : std::error_code(errno, std::generic_category());
  }
  if (S_ISDIR(st.st_mode)) {
    ::chmod(path.c_str(), 0700);
    for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        ::chmod(it->path().c_str(), 0700);
      }
    }
  }
  ec.clear();
  fs::remove_all(path, ec);
  return ec;
}

} // namespace

Result<void> remove_tree(const fs::path& path, const IdMap& map)
{
  if (::geteuid() == 0 || map.single_id()) {
    if (auto ec = remove_all_forcing(path)) {
      return fail(fmt::format("remove \"{}\": {}", path.string(), ec.message()));
    }
    return {};
  }
  auto rc = run_in_user_namespace(map, [&] { return remove_all_forcing(path) ? 1 : 0; });
  if (!rc) {
    return fail(fmt::format("remove \"{}\": {}", path.string(), rc.error()));
  }
  if (*rc != 0) {
    return fail(fmt::format("remove \"{}\": failed inside the user namespace", path.string()));
  }
  return {};
}

} // namespace kiln::builder
