#include "base/fileio.hpp"
#include "builder/nsexec.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

TEST_CASE("a path anchor is the deepest directory above all its paths; the child names them from there")
{
  TempDir dir(fs::temp_directory_path());
  const fs::path& root = dir.path();
  fs::create_directories(root / "cache/rootfs/layer-a");
  fs::create_directories(root / "cache/tmp/run/upper");
  fs::create_directories(root / "elsewhere");
  std::ofstream(root / "cache/tmp/run/file") << "x";

  auto anchor = PathAnchor::open(
      {root / "cache/rootfs/layer-a", root / "cache/tmp/run/upper", root / "cache/tmp/run/file"});
  REQUIRE(anchor.has_value());
  CHECK((*anchor)(root / "cache/rootfs/layer-a") == fs::path("rootfs/layer-a"));
  CHECK((*anchor)(root / "cache/tmp/run/../run/upper") == fs::path("tmp/run/upper"));
  CHECK((*anchor)(root / "cache") == fs::path("."));
  // Not below it: the absolute path, looked up as before.
  CHECK((*anchor)(root / "elsewhere") == root / "elsewhere");
  CHECK((*anchor)(root / "cache-sibling") == root / "cache-sibling");

  // A single file: its directory is the anchor.
  auto single = PathAnchor::open({root / "cache/tmp/run/file"});
  REQUIRE(single.has_value());
  CHECK((*single)(root / "cache/tmp/run/file") == fs::path("file"));

  CHECK_FALSE(PathAnchor::open({root / "missing/a", root / "missing/b"}).has_value());

  // enter() makes the relative names resolve, whatever the working
  // directory was (in a child, as the sandbox does it).
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    bool ok = ::chdir("/") == 0 && anchor->enter().has_value() && fs::is_directory("rootfs/layer-a") &&
              fs::is_regular_file((*anchor)(root / "cache/tmp/run/file"));
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}
