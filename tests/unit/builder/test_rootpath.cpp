#include "base/fileio.hpp"
#include "builder/rootpath.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

TEST_CASE("make_in_root keeps hostile symlinks and .. inside the root")
{
  TempDir dir(fs::temp_directory_path());
  fs::path root = dir.path() / "root";
  fs::create_directories(root);
  fs::create_symlink("/", root / "etc");
  fs::create_symlink("../../../..", root / "up");
  Fd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> created;

  auto file = make_in_root(root_fd.get(), "/etc/kiln-rootpath-test", NodeKind::file, 0644, created);
  REQUIRE(file);
  CHECK(fs::exists(root / "kiln-rootpath-test"));
  CHECK_FALSE(fs::exists("/kiln-rootpath-test"));

  auto nested = make_in_root(root_fd.get(), "up/../a/b", NodeKind::directory, 0755, created);
  REQUIRE(nested);
  CHECK(fs::is_directory(root / "a" / "b"));
  CHECK(created == std::vector<std::string>{"etc/kiln-rootpath-test", "up/../a", "up/../a/b"});

  remove_created(root_fd.get(), created);
  CHECK_FALSE(fs::exists(root / "kiln-rootpath-test"));
  CHECK_FALSE(fs::exists(root / "a"));
  CHECK(fs::is_symlink(root / "etc"));
}

TEST_CASE("remove_created leaves what the command filled")
{
  TempDir dir(fs::temp_directory_path());
  Fd root_fd(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> created;
  REQUIRE(make_in_root(root_fd.get(), "run/secrets/x", NodeKind::file, 0600, created));
  REQUIRE(write_file_atomic(dir.path() / "run" / "keep", "data"));
  remove_created(root_fd.get(), created);
  CHECK_FALSE(fs::exists(dir.path() / "run" / "secrets"));
  CHECK(fs::exists(dir.path() / "run" / "keep"));
}

TEST_CASE("read_in_root resolves an absolute symlink inside the root")
{
  TempDir dir(fs::temp_directory_path());
  fs::create_directories(dir.path() / "real");
  REQUIRE(write_file_atomic(dir.path() / "real" / "passwd", "root:x:0:0::/:/bin/sh\n"));
  fs::create_symlink("/real", dir.path() / "etc");
  Fd root_fd(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto text = read_in_root(root_fd.get(), "/etc/passwd");
  REQUIRE(text);
  CHECK(*text == "root:x:0:0::/:/bin/sh\n");
  CHECK_FALSE(read_in_root(root_fd.get(), "/etc/missing"));
  CHECK(normalize_relative("//a/./b/") == "a/b");
}
