#include "base/fileio.hpp"
#include "builder/snapshot.hpp"
#include "builder/upper.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

namespace {

std::string joined(const std::vector<std::string>& items)
{
  std::string text;
  for (const auto& item : items) {
    text += item + " ";
  }
  return text;
}

// The diff, read back as the layer writer would (the current user is
// container root, as in a single-id run).
Result<UpperChanges> diff_and_scan(const Snapshot& snapshot, int merged_fd, int upper_fd,
                                   const fs::path& upper)
{
  if (auto ok = snapshot_diff(snapshot, merged_fd, upper_fd); !ok) {
    return tl::unexpected(ok.error());
  }
  IdMap map;
  map.uids.ranges = {{0, static_cast<uint32_t>(::geteuid()), 1}};
  map.gids.ranges = {{0, static_cast<uint32_t>(::getegid()), 1}};
  return scan_upper(upper, map);
}

void put(const fs::path& path, std::string_view data)
{
  fs::create_directories(path.parent_path());
  REQUIRE(write_file_atomic(path, data, Durable::no));
}

} // namespace

TEST_CASE("the copy driver merges layers and writes the difference as overlayfs would")
{
  TempDir dir(fs::temp_directory_path());
  fs::path l1 = dir.path() / "l1";
  fs::path l2 = dir.path() / "l2";
  fs::path merged = dir.path() / "merged";
  fs::path upper = dir.path() / "upper";
  put(l1 / "a" / "x", "x");
  put(l1 / "a" / "y", "y");
  put(l1 / "b" / "z", "z");
  put(l1 / "keep", "k");
  fs::create_symlink("keep", l1 / "link");
  put(l2 / "a" / ".wh.x", "");
  put(l2 / "b" / ".wh..wh..opq", "");
  put(l2 / "b" / "new", "n");
  fs::create_directories(merged);
  fs::create_directories(upper);
  Fd merged_fd(::open(merged.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Fd upper_fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));

  auto snapshot = snapshot_populate({l1, l2}, merged_fd.get());
  REQUIRE(snapshot);
  CHECK_FALSE(fs::exists(merged / "a" / "x"));
  CHECK(read_file(merged / "a" / "y").value() == "y");
  CHECK_FALSE(fs::exists(merged / "b" / "z"));
  CHECK(read_file(merged / "b" / "new").value() == "n");
  CHECK(fs::read_symlink(merged / "link") == "keep");

  SUBCASE("no change, no upper entries")
  {
    auto changes = diff_and_scan(*snapshot, merged_fd.get(), upper_fd.get(), upper);
    REQUIRE(changes);
    CHECK(changes->empty());
  }
  SUBCASE("additions, edits, deletions and a replaced directory")
  {
    fs::remove(merged / "a" / "y");
    put(merged / "c" / "d", "new");
    REQUIRE(write_file_atomic(merged / "keep", "edited", Durable::no));
    fs::remove_all(merged / "b");
    put(merged / "b" / "fresh", "f");
    auto changes = diff_and_scan(*snapshot, merged_fd.get(), upper_fd.get(), upper);
    REQUIRE(changes);
    std::vector<std::string> changed;
    for (const auto& e : changes->changed) {
      changed.push_back(e.path);
    }
    CHECK(joined(changed) == "a b b/fresh c c/d keep ");
    CHECK(joined(changes->deleted) == "a/y ");
    CHECK(joined(changes->opaque) == "b ");
    CHECK(read_file(upper / "keep").value() == "edited");
  }
}
