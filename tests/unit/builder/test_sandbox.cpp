#include "base/fileio.hpp"
#include "builder/sandbox.hpp"
#include "builder/upper.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

namespace {

// A busybox rootfs owned by whatever host id container root maps to, as the
// layer store would extract it; nullopt (with the reason) when this host
// cannot run the sandbox.
struct Fixture
{
  TempDir dir{fs::temp_directory_path(), "kiln-sandbox-test-"};
  fs::path rootfs = dir.path() / "rootfs";
  std::string skip;

  Fixture()
  {
    if (::access("/bin/busybox", X_OK) != 0) {
      skip = "/bin/busybox is missing (Debian package busybox-static)";
      return;
    }
    fs::create_directories(rootfs / "bin");
    fs::create_directories(rootfs / "etc");
    fs::create_directories(rootfs / "tmp");
    fs::copy_file("/bin/busybox", rootfs / "bin" / "busybox");
    for (const char* applet : {"sh", "echo", "ls", "rm", "touch", "sleep", "cat", "id"}) {
      fs::create_symlink("busybox", rootfs / "bin" / applet);
    }
    std::ofstream(rootfs / "etc" / "passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(rootfs / "etc" / "obsolete") << "old\n";
    IdMap map = current_id_map();
    if (::geteuid() == 0) {
      uint32_t uid = *map.uids.to_host(0);
      uint32_t gid = *map.gids.to_host(0);
      ::chown(dir.path().c_str(), uid, gid);
      for (const auto& entry : fs::recursive_directory_iterator(rootfs)) {
        ::lchown(entry.path().c_str(), uid, gid);
      }
      ::lchown(rootfs.c_str(), uid, gid);
    }
    ::chmod(dir.path().c_str(), 0755);
  }

  RunOptions options(std::vector<std::string>& output) const
  {
    RunOptions o;
    o.scratch_dir = dir.path() / "scratch";
    o.output = [&output](OutputStream stream, std::string_view chunk) {
      output.push_back((stream == OutputStream::out ? "out:" : "err:") + std::string(chunk));
    };
    return o;
  }
};

bool sandbox_usable(const Fixture& f)
{
  if (!f.skip.empty()) {
    MESSAGE("skipped: " << f.skip);
    return false;
  }
  std::vector<std::string> output;
  auto probe = run({{f.rootfs}}, Command::exec_form({"/bin/echo"}), {}, {}, {}, f.options(output));
  if (!probe) {
    MESSAGE("skipped: the sandbox cannot run here: " << probe.error());
    return false;
  }
  return true;
}

} // namespace

TEST_CASE("a shell-form run reports its exit status, streams and tails its output, and records its changes")
{
  Fixture f;
  if (!sandbox_usable(f)) {
    return;
  }
  std::vector<std::string> output;
  auto options = f.options(output);
  options.workdir = "/work/dir";
  auto result =
      run({{f.rootfs}},
          Command::shell_form("echo hello; echo oops >&2; touch new; rm /etc/obsolete; echo $GREETING"),
          {{"GREETING=hi there"}}, {}, {}, options);
  REQUIRE(result);
  CHECK(result->status.success());
  CHECK(result->last_lines == std::vector<std::string>{"hello", "oops", "hi there"});
  auto changes = scan_upper(result->upper.path(), result->upper.id_map());
  REQUIRE(changes);
  std::vector<std::string> changed;
  for (const auto& e : changes->changed) {
    changed.push_back(e.path);
    CHECK(e.uid == 0);
  }
  CHECK(changed == std::vector<std::string>{"etc", "work", "work/dir", "work/dir/new"});
  CHECK(changes->deleted == std::vector<std::string>{"etc/obsolete"});
  // The layer itself is untouched.
  CHECK(fs::exists(f.rootfs / "etc" / "obsolete"));
  fs::path run_dir = result->upper.run_dir();
  REQUIRE(result->upper.remove());
  CHECK_FALSE(fs::exists(run_dir));
}

TEST_CASE("a run that changes nothing leaves an empty upper dir, on every driver that works here")
{
  Fixture f;
  if (!sandbox_usable(f)) {
    return;
  }
  for (auto driver : {RootfsDriver::overlay, RootfsDriver::copy}) {
    std::vector<std::string> output;
    auto options = f.options(output);
    options.driver = driver;
    auto result = run({{f.rootfs}}, Command::exec_form({"/bin/ls", "/"}), {}, {}, {}, options);
    REQUIRE(result);
    CHECK(result->driver == driver);
    auto changes = scan_upper(result->upper.path(), result->upper.id_map());
    REQUIRE(changes);
    CHECK(changes->empty());
  }
}

TEST_CASE("a failing command gives its code and last lines, and its upper dir is gone")
{
  Fixture f;
  if (!sandbox_usable(f)) {
    return;
  }
  std::vector<std::string> output;
  auto result = run({{f.rootfs}}, Command::shell_form("touch /x; echo first; echo last >&2; exit 3"), {}, {},
                    {}, f.options(output));
  REQUIRE(result);
  CHECK(result->status.code == 3);
  CHECK_FALSE(result->status.success());
  CHECK(result->status.describe() == "exit code 3");
  CHECK(result->last_lines == std::vector<std::string>{"first", "last"});
  CHECK(result->upper.path().empty());
  CHECK(fs::is_empty(f.dir.path() / "scratch"));
}

TEST_CASE("a program missing from the rootfs is an error naming it")
{
  Fixture f;
  if (!sandbox_usable(f)) {
    return;
  }
  std::vector<std::string> output;
  auto result = run({{f.rootfs}}, Command::exec_form({"python3", "-V"}), {}, {}, {}, f.options(output));
  REQUIRE_FALSE(result);
  CHECK(result.error().find("exec \"python3\"") != std::string::npos);
  CHECK(fs::is_empty(f.dir.path() / "scratch"));
}

TEST_CASE("cancelling kills the process tree and removes the run directory")
{
  Fixture f;
  if (!sandbox_usable(f)) {
    return;
  }
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  Fd cancel_read(fds[0]), cancel_write(fds[1]);
  std::vector<std::string> unused;
  auto options = f.options(unused);
  options.cancel_fd = cancel_read.get();
  // Cancel as soon as the command shows it is running.
  options.output = [&](OutputStream, std::string_view chunk) {
    if (chunk.find("started") != std::string_view::npos) {
      (void)!::write(cancel_write.get(), "x", 1);
    }
  };
  auto result =
      run({{f.rootfs}}, Command::shell_form("echo started; sleep 100; touch /late"), {}, {}, {}, options);
  REQUIRE(result);
  CHECK(result->status.cancelled);
  CHECK(fs::is_empty(f.dir.path() / "scratch"));
}

TEST_CASE("secrets are readable inside and never reach the upper dir")
{
  Fixture f;
  if (!sandbox_usable(f)) {
    return;
  }
  REQUIRE(write_file_atomic(f.dir.path() / "token", "s3cret", Durable::no, 0600));
  std::vector<std::string> output;
  auto result =
      run({{f.rootfs}}, Command::shell_form("cat /run/secrets/token; echo; cat /run/secrets/token > /tmp/c"),
          {}, {}, {SecretMount{"token", f.dir.path() / "token", ""}}, f.options(output));
  REQUIRE(result);
  CHECK(result->status.success());
  CHECK(result->last_lines == std::vector<std::string>{"s3cret"});
  auto changes = scan_upper(result->upper.path(), result->upper.id_map());
  REQUIRE(changes);
  std::vector<std::string> changed;
  for (const auto& e : changes->changed) {
    changed.push_back(e.path);
  }
  // The command's own copy is there; the mount point is not.
  CHECK(changed == std::vector<std::string>{"tmp", "tmp/c"});
}
