#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "base/fileio.hpp"
#include "oci/layer_writer.hpp"
#include "layer_fixtures.hpp"
#include "oci/tree_walk.hpp"
#include "tar_reader.hpp"

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

namespace {

LayerResult write(std::vector<LayerEntry> entries, std::vector<Deletion> deletions, StringSink& sink,
                  Compression compression = Compression::none, std::optional<int64_t> epoch = {})
{
  LayerWriteOptions options;
  options.compression.kind = compression;
  options.source_date_epoch = epoch;
  auto result = write_layer(std::move(entries), std::move(deletions), options, sink);
  REQUIRE_MESSAGE(result, (result ? "" : result.error()));
  return *result;
}

void write_text(const fs::path& path, const std::string& text)
{
  std::ofstream(path) << text;
}

} // namespace

TEST_CASE("every entry type and header field survives a reader that is not kiln's")
{
  auto dir = node("etc", EntryType::directory, 0755);
  auto f = file("etc/passwd", "root:x:0:0\n", 04755);
  f.uid = 1000;
  f.gid = 2000;
  f.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8)},
              {"user.note", "hi"}};
  auto link = node("etc/link", EntryType::symlink, 0777);
  link.link_target = "../target";
  auto chr = node("dev-null", EntryType::char_device, 0666);
  chr.dev_major = 1;
  chr.dev_minor = 3;
  auto blk = node("dev-sda", EntryType::block_device, 0660);
  blk.dev_major = 8;
  blk.dev_minor = 0;
  auto fifo = node("pipe", EntryType::fifo, 0600);
  auto big_ids = file("ids", "x");
  big_ids.uid = 100000000;
  big_ids.gid = 100000001;
  std::string long_name = "d/" + std::string(150, 'n');
  auto long_file = file(long_name, "long");
  auto long_link = node("long-link", EntryType::symlink, 0777);
  long_link.link_target = std::string(200, 't');

  StringSink sink;
  auto result = write({f, dir, link, chr, blk, fifo, big_ids, long_file, long_link}, {}, sink);
  CHECK(result.media_type == "application/vnd.oci.image.layer.v1.tar");
  CHECK(result.diff_id == Digest::of(sink.data()));
  CHECK(result.digest == result.diff_id);
  CHECK(result.size == sink.data().size());

  auto entries = read_tar(sink.data());
  std::vector<std::string> paths;
  for (const auto& e : entries) {
    paths.push_back(e.path);
    CHECK(e.uname.empty());
    CHECK(e.gname.empty());
    CHECK_FALSE(e.atime_set);
    CHECK_FALSE(e.ctime_set);
    CHECK(e.mtime == 1700000000);
  }
  CHECK(paths == std::vector<std::string>{long_name, "dev-null", "dev-sda", "etc/", "etc/link", "etc/passwd",
                                          "ids", "long-link", "pipe"});
  const auto& p = entries[5];
  CHECK(p.filetype == AE_IFREG);
  CHECK(p.mode == 04755);
  CHECK(p.uid == 1000);
  CHECK(p.gid == 2000);
  CHECK(p.data == "root:x:0:0\n");
  CHECK(p.xattrs.at("security.capability") == std::string("\x01\x00\x00\x02\x00\x20\x00\x00", 8));
  CHECK(p.xattrs.at("user.note") == "hi");
  CHECK(entries[3].filetype == AE_IFDIR);
  CHECK(entries[4].symlink == "../target");
  CHECK(entries[1].filetype == AE_IFCHR);
  CHECK(entries[1].rdevmajor == 1);
  CHECK(entries[1].rdevminor == 3);
  CHECK(entries[2].filetype == AE_IFBLK);
  CHECK(entries[2].rdevmajor == 8);
  CHECK(entries[8].filetype == AE_IFIFO);
  CHECK(entries[6].uid == 100000000);
  CHECK(entries[6].gid == 100000001);
  CHECK(entries[0].data == "long");
  CHECK(entries[7].symlink == std::string(200, 't'));
}

TEST_CASE("mtimes are clamped to SOURCE_DATE_EPOCH and never raised")
{
  auto newer = file("newer", "a");
  newer.mtime = 2000000000;
  auto older = file("older", "b");
  older.mtime = 1000;
  StringSink sink;
  write({newer, older}, {{"gone", DeletionKind::path}}, sink, Compression::none, 1500000000);
  auto entries = read_tar(sink.data());
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].path == ".wh.gone");
  CHECK(entries[0].mtime == 1500000000);
  CHECK(entries[1].mtime == 1500000000);
  CHECK(entries[2].mtime == 1000);
}

TEST_CASE("deletions become whiteout and opaque markers")
{
  StringSink sink;
  write({node("usr", EntryType::directory)},
        {{"usr/lib/old.so", DeletionKind::path}, {"usr/share", DeletionKind::opaque}, {"", DeletionKind::opaque}},
        sink);
  auto entries = read_tar(sink.data());
  std::vector<std::string> paths;
  for (const auto& e : entries) {
    paths.push_back(e.path);
  }
  CHECK(paths == std::vector<std::string>{".wh..wh..opq", "usr/", "usr/lib/.wh.old.so", "usr/share/.wh..wh..opq"});
  CHECK(entries[2].size == 0);
  CHECK(entries[2].filetype == AE_IFREG);
}

TEST_CASE("hardlinks are written once and linked by device and inode")
{
  auto a = file("b-first", "shared");
  a.device = 5;
  a.inode = 42;
  a.nlink = 2;
  auto b = a;
  b.path = "a-second";
  StringSink sink;
  write({a, b}, {}, sink);
  auto entries = read_tar(sink.data());
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].path == "a-second");
  CHECK(entries[0].data == "shared");
  CHECK(entries[1].hardlink == "a-second");
  CHECK(entries[1].size == 0);
}

TEST_CASE("bad entries are refused with the path named")
{
  StringSink sink;
  LayerWriteOptions options;
  auto r = write_layer({file("../escape", "x")}, {}, options, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("../escape") != std::string::npos);
  r = write_layer({file("a", "x"), file("a", "y")}, {}, options, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("listed twice") != std::string::npos);
  auto shrunk = file("shrunk", "abc");
  shrunk.size = 10;
  r = write_layer({shrunk}, {}, options, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("shrunk") != std::string::npos);
  options.compression.kind = Compression::gzip;
  options.compression.level = 12;
  r = write_layer({}, {}, options, sink);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("level 12") != std::string::npos);
}

TEST_CASE("compressed layers decompress to the diff_id's stream, whatever the thread count")
{
  // A few MiB of mixed text and noise, so several gzip blocks are joined.
  std::string text;
  std::mt19937 rng(7);
  for (int i = 0; i < 60000; ++i) {
    text += "line " + std::to_string(i) + " of a layer test\n";
    if (i % 7 == 0) {
      text += static_cast<char>(rng());
    }
  }
  std::vector<LayerEntry> entries{file("a", text), file("b", ""), file("c", text.substr(0, 100000))};
  for (auto kind : {Compression::gzip, Compression::zstd}) {
    StringSink plain;
    auto reference = write(entries, {}, plain);
    std::string previous;
    for (unsigned threads : {1u, 2u, 3u}) {
      LayerWriteOptions options;
      options.compression.kind = kind;
      options.compression.threads = threads;
      StringSink sink;
      auto result = write_layer(entries, {}, options, sink);
      REQUIRE(result);
      CHECK(result->diff_id == reference.diff_id);
      CHECK(result->digest == Digest::of(sink.data()));
      CHECK(result->size == sink.data().size());
      CHECK(result->media_type == layer_media_type(kind));
      CHECK(sink.data().size() < plain.data().size());
      if (!previous.empty()) {
        CHECK(sink.data() == previous);
      }
      previous = sink.data();
      auto read = read_tar(sink.data());
      REQUIRE(read.size() == 3);
      CHECK(read[0].data == text);
    }
    if (kind == Compression::gzip) {
      // One gzip member: the magic appears once, at the start.
      CHECK(previous.find("\x1f\x8b\x08", 1) == std::string::npos);
    }
  }
}

TEST_CASE("an empty layer is a valid stream in each compression")
{
  for (auto kind : {Compression::none, Compression::gzip, Compression::zstd}) {
    StringSink sink;
    auto result = write({}, {}, sink, kind);
    CHECK(read_tar(sink.data()).empty());
    CHECK(result.diff_id == Digest::of(std::string(1024, '\0')));
  }
}

TEST_CASE("a directory walk gives the same layer whatever the real mtimes and creation order")
{
  TempDir tmp(fs::temp_directory_path());
  auto make_tree = [&](const fs::path& root, bool reversed, int64_t mtime_offset) {
    fs::create_directories(root);
    std::vector<std::string> names{"alpha", "beta", "gamma", "delta"};
    if (reversed) {
      std::reverse(names.begin(), names.end());
    }
    for (const auto& n : names) {
      fs::create_directories(root / n / "sub");
      write_text(root / n / "sub" / "file.txt", "content of " + n);
      fs::create_symlink("sub/file.txt", root / n / "link");
    }
    fs::create_hard_link(root / "alpha" / "sub" / "file.txt", root / "hard");
    for (auto& e : fs::recursive_directory_iterator(root)) {
      timespec times[2] = {{0, UTIME_OMIT}, {1800000000 + mtime_offset, 0}};
      ::utimensat(AT_FDCWD, e.path().c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
    for (const auto& n : names) {
      fs::permissions(root / n, fs::perms(0755));
    }
  };
  make_tree(tmp.path() / "one", false, 0);
  make_tree(tmp.path() / "two", true, 12345);
  std::optional<Digest> first;
  for (auto name : {"one", "two"}) {
    auto walked = walk_tree((tmp.path() / name).string());
    REQUIRE(walked);
    StringSink sink;
    auto result = write(walked->entries, {}, sink, Compression::gzip, 1700000000);
    if (first) {
      CHECK(result.digest == *first);
    }
    first = result.digest;
    auto entries = read_tar(sink.data());
    bool saw_hardlink = false;
    for (const auto& e : entries) {
      saw_hardlink = saw_hardlink || !e.hardlink.empty();
    }
    CHECK(saw_hardlink);
  }
}

TEST_CASE("an overlay upper directory's whiteouts become deletions")
{
  TempDir tmp(fs::temp_directory_path());
  fs::create_directories(tmp.path() / "keep");
  write_text(tmp.path() / "keep" / ".wh.removed", "");
  write_text(tmp.path() / "keep" / ".wh..wh..opq", "");
  write_text(tmp.path() / "keep" / "new", "n");
  auto walked = walk_tree(tmp.path().string(), WalkMode::overlay_upper);
  REQUIRE(walked);
  REQUIRE(walked->entries.size() == 2);
  REQUIRE(walked->deletions.size() == 2);
  CHECK(walked->deletions[0].path == "keep");
  CHECK(walked->deletions[0].kind == DeletionKind::opaque);
  CHECK(walked->deletions[1].path == "keep/removed");
  CHECK(walked->deletions[1].kind == DeletionKind::path);
}
