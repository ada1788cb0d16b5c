#include "scanner/rootfs.hpp"
#include "tests/unit/scanner/rootfs_fixture.hpp"

#include <doctest/doctest.h>

using namespace kiln::scanner;

TEST_CASE("links resolve inside the root, never onto the host")
{
  RootfsFixture root;
  root.put("usr/lib/os-release", "ID=debian\n");
  root.link("etc/os-release", "../usr/lib/os-release");
  root.link("etc/abs", "/usr/lib/os-release");
  root.link("etc/passwd-escape", "../../../../../../../../etc/hostname");
  root.link("etc/host-abs", "/etc/hostname");
  auto rootfs = Rootfs::open(root.path());
  REQUIRE(rootfs);
  CHECK(**rootfs->read("etc/os-release") == "ID=debian\n");
  CHECK(**rootfs->read("/etc/abs") == "ID=debian\n");
  // Re-rooted at the image root, where there is no etc/hostname.
  CHECK_FALSE(*rootfs->read("etc/passwd-escape"));
  CHECK_FALSE(*rootfs->read("etc/host-abs"));
  CHECK_FALSE(*rootfs->read("../../../../etc/hostname"));
  CHECK_FALSE(*rootfs->read("absent"));
  auto dir = rootfs->read("etc");
  REQUIRE_FALSE(dir);
  CHECK(dir.error() == "read etc: not a regular file");
}

TEST_CASE("the walk is sorted and does not follow symlinks")
{
  RootfsFixture root;
  root.put("b/file", "x");
  root.put("a/deep/file", "x");
  root.link("c", "/");
  std::vector<std::string> seen;
  auto rootfs = Rootfs::open(root.path());
  REQUIRE(rootfs);
  std::vector<std::string> warnings;
  rootfs->walk(
      [&](const std::string& path, EntryType type) {
        seen.push_back(path + (type == EntryType::directory ? "/" : type == EntryType::symlink ? "@" : ""));
        return true;
      },
      [&](const std::string& w) { warnings.push_back(w); });
  CHECK(seen == std::vector<std::string>{"a/", "a/deep/", "a/deep/file", "b/", "b/file", "c@"});
  CHECK(warnings.empty());
  auto listed = rootfs->list("a");
  REQUIRE(listed);
  REQUIRE(*listed);
  CHECK((*listed)->size() == 1);
  CHECK_FALSE(*rootfs->list("nope"));
}
