#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <fmt/core.h>

#include "base/fileio.hpp"
#include "layer_fixtures.hpp"
#include "oci/layer_writer.hpp"
#include "oci/tree_walk.hpp"
#include "tar_reader.hpp"

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& path, const std::string& text)
{
  std::ofstream(path) << text;
}

// The path an item has in the tar stream, spelled out here rather than taken
// from the writer, so the expected order below does not lean on kiln's code.
std::string stream_path(const LayerItem& item)
{
  if (const auto* entry = std::get_if<LayerEntry>(&item)) {
    return entry->path;
  }
  const auto& deletion = std::get<Deletion>(item);
  if (deletion.kind == DeletionKind::opaque) {
    return deletion.path.empty() ? ".wh..wh..opq" : deletion.path + "/.wh..wh..opq";
  }
  size_t slash = deletion.path.rfind('/');
  return slash == std::string::npos
             ? ".wh." + deletion.path
             : deletion.path.substr(0, slash + 1) + ".wh." + deletion.path.substr(slash + 1);
}

std::vector<std::string> ordered_paths(const fs::path& root, WalkMode mode)
{
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  std::vector<std::string> paths;
  auto walked = walk_tree_ordered(fd.get(), mode, [&](LayerItem item) -> Result<void> {
    paths.push_back(stream_path(item));
    return {};
  });
  REQUIRE_MESSAGE(walked, (walked ? "" : walked.error()));
  return paths;
}

// Names that sort differently by full path than directory by directory:
// '-' and '.' sort before '/', so "a-b" and "a.b/c" come before "a/b".
void make_tricky_tree(const fs::path& root)
{
  fs::create_directories(root / "a" / "b-");
  write_text(root / "a" / "b", "b");
  write_text(root / "a" / "b-" / "x", "x");
  write_text(root / "a" / "b.c", "bc");
  write_text(root / "a-b", "a-b");
  fs::create_directories(root / "a.b");
  write_text(root / "a.b" / "c", "c");
  fs::create_symlink("a/b", root / "a0");
  fs::create_directories(root / "z");
  write_text(root / "z" / "h1", "linked across directories");
  fs::create_hard_link(root / "z" / "h1", root / "a" / "h2");
}

// The layer the list writer makes from walk_tree's lists, shuffled first so
// that only the writer's own sort decides the order.
std::string list_layer(const fs::path& root, WalkMode mode, Compression kind)
{
  auto walked = walk_tree(root.string(), mode);
  REQUIRE_MESSAGE(walked, (walked ? "" : walked.error()));
  std::mt19937 rng(11);
  std::shuffle(walked->entries.begin(), walked->entries.end(), rng);
  std::shuffle(walked->deletions.begin(), walked->deletions.end(), rng);
  LayerWriteOptions options;
  options.compression.kind = kind;
  options.source_date_epoch = 1700000000;
  StringSink sink;
  auto result = write_layer(std::move(walked->entries), std::move(walked->deletions), options, sink);
  REQUIRE_MESSAGE(result, (result ? "" : result.error()));
  return sink.data();
}

std::string streamed_layer(const fs::path& root, WalkMode mode, Compression kind)
{
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  LayerWriteOptions options;
  options.compression.kind = kind;
  options.source_date_epoch = 1700000000;
  StringSink sink;
  auto result = write_layer_tree(fd.get(), mode, options, sink);
  REQUIRE_MESSAGE(result, (result ? "" : result.error()));
  CHECK(result->digest == Digest::of(sink.data()));
  return sink.data();
}

} // namespace

TEST_CASE("the ordered walk yields full-path byte order, not directory-by-directory order")
{
  TempDir tmp(fs::temp_directory_path());
  make_tricky_tree(tmp.path());
  CHECK(ordered_paths(tmp.path(), WalkMode::plain) ==
        std::vector<std::string>{"a", "a-b", "a.b", "a.b/c", "a/b", "a/b-", "a/b-/x", "a/b.c", "a/h2", "a0",
                                 "z", "z/h1"});
  // walk_tree collects the same walk.
  auto walked = walk_tree(tmp.path().string());
  REQUIRE(walked);
  std::vector<std::string> listed;
  for (const auto& entry : walked->entries) {
    listed.push_back(entry.path);
  }
  CHECK(listed == ordered_paths(tmp.path(), WalkMode::plain));
  CHECK(walked->deletions.empty());
}

TEST_CASE("the streamed layer of a tree is byte for byte the list writer's layer")
{
  TempDir tmp(fs::temp_directory_path());
  make_tricky_tree(tmp.path());
  for (auto kind : {Compression::none, Compression::gzip, Compression::zstd}) {
    CAPTURE(compression_name(kind));
    auto streamed = streamed_layer(tmp.path(), WalkMode::plain, kind);
    CHECK(streamed == list_layer(tmp.path(), WalkMode::plain, kind));
  }
  auto entries = read_tar(streamed_layer(tmp.path(), WalkMode::plain, Compression::none));
  REQUIRE(entries.size() == 12);
  // The first path of the inode in layer order carries the data.
  CHECK(entries[8].path == "a/h2");
  CHECK(entries[8].data == "linked across directories");
  CHECK(entries[11].path == "z/h1");
  CHECK(entries[11].hardlink == "a/h2");
}

TEST_CASE("the walk reads xattrs of files and directories, long lists included")
{
  TempDir tmp(fs::temp_directory_path());
  make_tricky_tree(tmp.path());
  // More names than the walk's first, small list buffer holds.
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 40; ++i) {
    expected[fmt::format("user.kiln-test-attribute-{:02}", i)] = std::string(static_cast<size_t>(i), 'v');
  }
  for (const auto& [key, value] : expected) {
    if (::setxattr((tmp.path() / "a" / "b").c_str(), key.c_str(), value.data(), value.size(), 0) != 0) {
      MESSAGE("skipped: the filesystem under " << tmp.path() << " refuses user.* xattrs");
      return;
    }
  }
  REQUIRE(::setxattr((tmp.path() / "a.b").c_str(), "user.dir", "d", 1, 0) == 0);
  auto entries = read_tar(streamed_layer(tmp.path(), WalkMode::plain, Compression::none));
  REQUIRE(entries.size() == 12);
  CHECK(entries[4].path == "a/b");
  CHECK(entries[4].xattrs == expected);
  CHECK(entries[2].path == "a.b/");
  CHECK(entries[2].xattrs == std::map<std::string, std::string>{{"user.dir", "d"}});
  CHECK(entries[3].xattrs.empty());
}

TEST_CASE("an overlay upper directory streams its whiteouts and opaque markers in layer order")
{
  TempDir tmp(fs::temp_directory_path());
  const fs::path root = tmp.path();
  fs::create_directories(root / "keep");
  write_text(root / "keep" / ".wh.removed", "");
  write_text(root / "keep" / ".wh..wh..opq", "");
  write_text(root / "keep" / "new", "n");
  write_text(root / "keep-x", "sibling");
  write_text(root / ".wh.top", "");
  fs::create_directories(root / "op");
  write_text(root / "op" / "f", "f");
  std::vector<std::string> expected;
  if (::mknod((root / "gone").c_str(), S_IFCHR | 0600, makedev(0, 0)) == 0) {
    expected.push_back(".wh.gone");
  } else {
    MESSAGE("no 0/0 character device whiteout in this run: mknod needs CAP_MKNOD");
  }
  expected.insert(expected.end(),
                  {".wh.top", "keep", "keep-x", "keep/.wh..wh..opq", "keep/.wh.removed", "keep/new", "op"});
  bool marked = ::setxattr((root / "op").c_str(), "user.overlay.opaque", "y", 1, 0) == 0;
  if (marked) {
    expected.push_back("op/.wh..wh..opq");
  } else {
    MESSAGE("no opaque xattr in this run: the filesystem refuses user.* xattrs");
  }
  expected.push_back("op/f");
  CHECK(ordered_paths(root, WalkMode::overlay_upper) == expected);

  for (auto kind : {Compression::none, Compression::zstd}) {
    CAPTURE(compression_name(kind));
    CHECK(streamed_layer(root, WalkMode::overlay_upper, kind) ==
          list_layer(root, WalkMode::overlay_upper, kind));
  }
  auto entries = read_tar(streamed_layer(root, WalkMode::overlay_upper, Compression::none));
  for (const auto& entry : entries) {
    CAPTURE(entry.path);
    CHECK(entry.xattrs.count("user.overlay.opaque") == 0);
  }
}

TEST_CASE("the ordered writer refuses items out of layer order or listed twice")
{
  LayerWriteOptions options;
  options.compression.kind = Compression::none;
  auto emit_all = [](std::vector<LayerItem> items) {
    return [items = std::move(items)](const LayerItemVisitor& emit) -> Result<void> {
      for (const auto& item : items) {
        auto emitted = emit(item);
        if (!emitted) {
          return emitted;
        }
      }
      return {};
    };
  };
  StringSink sink;
  auto r = write_layer_ordered(emit_all({file("a/b", "x"), file("a-b", "y")}), options, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("\"a-b\": after \"a/b\", out of layer order") != std::string::npos);
  r = write_layer_ordered(emit_all({Deletion{"x", DeletionKind::path}, file(".wh.x", "")}), options, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("\".wh.x\": listed twice") != std::string::npos);

  StringSink ordered;
  r = write_layer_ordered(emit_all({Deletion{"b", DeletionKind::path}, file("a", "x"),
                                    Deletion{"a", DeletionKind::opaque}, file("a/c", "y")}),
                          options, ordered);
  REQUIRE_MESSAGE(r, (r ? "" : r.error()));
  StringSink listed;
  auto l = write_layer({file("a/c", "y"), file("a", "x")},
                       {{"a", DeletionKind::opaque}, {"b", DeletionKind::path}}, options, listed);
  REQUIRE(l);
  CHECK(ordered.data() == listed.data());
  CHECK(r->diff_id == l->diff_id);
  CHECK(r->entries == 4);
  CHECK(l->entries == 4);

  StringSink empty;
  r = write_layer_ordered(emit_all({}), options, empty);
  REQUIRE(r);
  CHECK(r->entries == 0);
}

TEST_CASE("a walk of one named child covers that child and its tree, not its siblings")
{
  TempDir dir(fs::temp_directory_path());
  const fs::path& root = dir.path();
  fs::create_directories(root / "a");
  write_text(root / "a" / "x", "x");
  fs::create_directories(root / "b" / "z");
  write_text(root / "b" / "y", "y");
  write_text(root / "b" / "z" / "w", "w");
  write_text(root / "b.txt", "t");
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  REQUIRE(fd);
  auto paths_of = [&](const std::string& only) {
    auto walked = walk_tree(fd.get(), WalkMode::plain, only);
    REQUIRE_MESSAGE(walked, (walked ? "" : walked.error()));
    std::vector<std::string> paths;
    for (const auto& entry : walked->entries) {
      paths.push_back(entry.path);
    }
    return paths;
  };
  CHECK(paths_of("b") == std::vector<std::string>{"b", "b/y", "b/z", "b/z/w"});
  CHECK(paths_of("b.txt") == std::vector<std::string>{"b.txt"});
  CHECK(paths_of("missing").empty());
  CHECK(paths_of("").size() == 7);
  CHECK_FALSE(walk_tree(fd.get(), WalkMode::plain, "b/z"));
}
