#include "base/fileio.hpp"
#include "builder/upper.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

namespace {

// A map under which the current user is container root: what a rootless run
// with a single id gives.
IdMap self_map()
{
  IdMap map;
  map.uids.ranges = {{0, static_cast<uint32_t>(::geteuid()), 1}};
  map.gids.ranges = {{0, static_cast<uint32_t>(::getegid()), 1}};
  return map;
}

std::vector<std::string> changed_paths(const UpperChanges& c)
{
  std::vector<std::string> paths;
  for (const auto& e : c.changed) {
    paths.push_back(e.path);
  }
  return paths;
}

} // namespace

TEST_CASE("an empty upper dir reports no change")
{
  TempDir dir(fs::temp_directory_path());
  auto changes = scan_upper(dir.path(), self_map());
  REQUIRE(changes);
  CHECK(changes->empty());
}

TEST_CASE("scan_upper reports changes, every whiteout form and opaque dirs")
{
  TempDir dir(fs::temp_directory_path());
  const fs::path& up = dir.path();
  fs::create_directories(up / "etc");
  REQUIRE(write_file_atomic(up / "etc" / "hosts", "x", Durable::no));
  // Kernel overlayfs: a 0/0 character device.
  if (::mknod((up / "etc" / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    MESSAGE("skipped the 0/0 whiteout: mknod refused here");
  }
  // fuse-overlayfs without mknod: .wh. files.
  REQUIRE(write_file_atomic(up / "etc" / ".wh.old", "", Durable::no));
  // An opaque dir by xattr (userxattr overlay) and one by marker file.
  fs::create_directories(up / "var" / "cache");
  REQUIRE(::setxattr((up / "var" / "cache").c_str(), "user.overlay.opaque", "y", 1, 0) == 0);
  fs::create_directories(up / "opt");
  REQUIRE(write_file_atomic(up / "opt" / ".wh..wh..opq", "", Durable::no));
  // A zero-size file with the overlay whiteout xattr (nested overlays).
  REQUIRE(write_file_atomic(up / "xwh", "", Durable::no));
  REQUIRE(::setxattr((up / "xwh").c_str(), "user.overlay.whiteout", "y", 1, 0) == 0);

  auto changes = scan_upper(up, self_map());
  REQUIRE(changes);
  CHECK(changed_paths(*changes) == std::vector<std::string>{"etc", "etc/hosts", "opt", "var", "var/cache"});
  std::vector<std::string> deleted = {"etc/old", "xwh"};
  if (fs::exists(fs::symlink_status(up / "etc" / "gone"))) {
    deleted = {"etc/gone", "etc/old", "xwh"};
  }
  CHECK(changes->deleted == deleted);
  CHECK(changes->opaque == std::vector<std::string>{"opt", "var/cache"});
  for (const auto& e : changes->changed) {
    CHECK(e.uid == 0);
    CHECK(e.gid == 0);
  }
}

TEST_CASE("host ids of the mapped range come back as container ids")
{
  if (::geteuid() != 0) {
    MESSAGE("skipped: chown to a subordinate id needs root");
    return;
  }
  TempDir dir(fs::temp_directory_path());
  REQUIRE(write_file_atomic(dir.path() / "f", "x", Durable::no));
  IdMap map;
  map.uids.ranges = {{0, 300000, 65536}};
  map.gids.ranges = {{0, 400000, 65536}};
  REQUIRE(::chown((dir.path() / "f").c_str(), 301000, 400050) == 0);
  REQUIRE(::chown(dir.path().c_str(), 300000, 400000) == 0);
  Fd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  auto changes = scan_upper_here(fd.get(), map, IdView::host);
  REQUIRE(changes);
  REQUIRE(changes->changed.size() == 1);
  CHECK(changes->changed[0].uid == 1000);
  CHECK(changes->changed[0].gid == 50);
}

TEST_CASE("overlay's own xattrs are told apart")
{
  CHECK(is_overlay_private_xattr("user.overlay.origin"));
  CHECK(is_overlay_private_xattr("trusted.overlay.opaque"));
  CHECK(is_overlay_private_xattr("user.fuseoverlayfs.opaque"));
  CHECK_FALSE(is_overlay_private_xattr("security.capability"));
  CHECK_FALSE(is_overlay_private_xattr("user.mime_type"));
}

TEST_CASE("a RUN layer keeps whiteouts and opaque markers only over something below")
{
  TempDir lower_dir(fs::temp_directory_path());
  TempDir upper_dir(fs::temp_directory_path());
  const fs::path& low = lower_dir.path();
  const fs::path& up = upper_dir.path();
  fs::create_directories(low / "etc");
  fs::create_directories(low / "opt" / "old");
  REQUIRE(write_file_atomic(low / "etc" / "gone", "x", Durable::no));
  REQUIRE(write_file_atomic(low / "etc" / "stale", "x", Durable::no));

  fs::create_directories(up / "etc");
  REQUIRE(write_file_atomic(up / "etc" / "hosts", "x", Durable::no));
  // Kernel overlayfs's 0/0 devices: one over a lower file, one over nothing.
  bool devices = ::mknod((up / "etc" / "gone").c_str(), S_IFCHR | 0, makedev(0, 0)) == 0 &&
                 ::mknod((up / "etc" / "never").c_str(), S_IFCHR | 0, makedev(0, 0)) == 0;
  if (!devices) {
    MESSAGE("skipped the 0/0 whiteouts: mknod refused here");
  }
  // fuse-overlayfs's .wh. files, likewise.
  REQUIRE(write_file_atomic(up / "etc" / ".wh.stale", "", Durable::no));
  REQUIRE(write_file_atomic(up / "etc" / ".wh.nothing", "", Durable::no));
  // Opaque directories: one hiding lower contents, one new.
  fs::create_directories(up / "opt");
  fs::create_directories(up / "new");
  for (const char* dir : {"opt", "new"}) {
    REQUIRE(::setxattr((up / dir).c_str(), "user.overlay.opaque", "y", 1, 0) == 0);
  }

  Fd upper_fd(::open(up.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<Fd> lowers;
  lowers.emplace_back(::open(low.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> items;
  auto walked = upper_layer_items(upper_fd.get(), lowers)([&](oci::LayerItem item) -> Result<void> {
    if (const auto* entry = std::get_if<oci::LayerEntry>(&item)) {
      items.push_back(entry->path);
    } else {
      const auto& deletion = std::get<oci::Deletion>(item);
      items.push_back((deletion.kind == oci::DeletionKind::opaque ? "opaque " : "delete ") + deletion.path);
    }
    return {};
  });
  REQUIRE_MESSAGE(walked, (walked ? "" : walked.error()));
  std::vector<std::string> expected = {"etc", "delete etc/gone", "etc/hosts", "delete etc/stale", "new", "opt",
                                       "opaque opt"};
  if (!devices) {
    expected.erase(std::find(expected.begin(), expected.end(), "delete etc/gone"));
  }
  std::sort(items.begin(), items.end());
  std::sort(expected.begin(), expected.end());
  CHECK(items == expected);
}
