#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include <fmt/core.h>

#include "base/fileio.hpp"
#include "oci/layout.hpp"
#include "oci/mediatype.hpp"
#include "oci/transport.hpp"

#include <sys/stat.h>

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

TEST_CASE("create, write, read and tag")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path() / "l");
  REQUIRE(layout);
  CHECK(read_file(tmp.path() / "l" / "oci-layout").value() == R"({"imageLayoutVersion":"1.0.0"})");
  auto d = layout->write_blob("hello", "text/plain");
  REQUIRE(d);
  CHECK(d->digest == Digest::of("hello"));
  CHECK(d->size == 5);
  CHECK(layout->read_blob(*d).value() == "hello");

  REQUIRE(layout->set_tag("v1", *d));
  REQUIRE(layout->set_tag("v1", *d));
  REQUIRE(layout->set_tag("v2", *d));
  auto index = layout->read_index();
  REQUIRE(index);
  CHECK(index->manifests.size() == 2);
  CHECK(layout->resolve("v1")->digest == d->digest);
  auto missing = layout->resolve("nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("no such tag") != std::string::npos);
  CHECK_FALSE(layout->resolve("")); // two entries, no tag
}

TEST_CASE("a corrupted blob is refused with the digest named")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  auto d = layout->write_blob("content", "text/plain");
  REQUIRE(d);
  REQUIRE(write_file_atomic(layout->blob_path(d->digest), "c0ntent"));
  auto bad = layout->read_blob(*d);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("digest mismatch") != std::string::npos);
  CHECK(bad.error().find(d->digest.hex()) != std::string::npos);
  REQUIRE(write_file_atomic(layout->blob_path(d->digest), "content!"));
  auto longer = layout->read_blob(*d);
  REQUIRE_FALSE(longer);
  CHECK(longer.error().find("size mismatch") != std::string::npos);
}

TEST_CASE("an uncommitted blob writer leaves nothing behind")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  {
    auto writer = layout->new_blob();
    REQUIRE(writer);
    REQUIRE(writer->write("partial", 7));
  }
  size_t files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(tmp.path() / "blobs" / "sha256")) {
    ++files;
  }
  CHECK(files == 0);
}

TEST_CASE("open refuses a directory that is not a layout, and a truncated index.json")
{
  TempDir tmp(fs::temp_directory_path());
  auto none = Layout::open(tmp.path());
  REQUIRE_FALSE(none);
  CHECK(none.error().find("not an OCI image layout") != std::string::npos);
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  REQUIRE(write_file_atomic(tmp.path() / "index.json", R"({"schemaVersion":2,"manif)"));
  auto index = layout->read_index();
  REQUIRE_FALSE(index);
  CHECK(index.error().find("index.json") != std::string::npos);
}

TEST_CASE("concurrent tag updates are not lost")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  auto d = layout->write_blob("x", "text/plain");
  REQUIRE(d);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r = layout->set_tag("t" + std::to_string(t) + "-" + std::to_string(i), *d);
        REQUIRE(r);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(layout->read_index()->manifests.size() == 40);
}

TEST_CASE("blobs are hard-linked where possible, each read once unless the caller just checked it")
{
  TempDir tmp(fs::temp_directory_path());
  auto from = Layout::create(tmp.path() / "from");
  REQUIRE(from);
  auto blob = from->write_blob("layer bytes", std::string(mediatype::k_oci_layer_gzip));
  REQUIRE(blob);
  // Corrupted after it was written: same size, other content.
  REQUIRE(write_file_atomic(from->blob_path(blob->digest), "LAYER BYTES"));

  auto linked = Layout::create(tmp.path() / "linked");
  REQUIRE(linked);
  auto refused = copy_blobs(*from, *linked, *blob, BlobTransfer::link_when_possible);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("does not match its digest") != std::string::npos);
  CHECK_FALSE(linked->has_blob(blob->digest));

  // Named as checked (the caller read it whole with a digest check just
  // before, as extracting a layer does): linked without a second read.
  REQUIRE(link_blobs(*from, *linked, *blob, {blob->digest}));
  struct stat a{}, b{};
  REQUIRE(::stat(from->blob_path(blob->digest).c_str(), &a) == 0);
  REQUIRE(::stat(linked->blob_path(blob->digest).c_str(), &b) == 0);
  CHECK(a.st_ino == b.st_ino);

  // A copy always checks what it copies.
  auto copied = Layout::create(tmp.path() / "copied");
  REQUIRE(copied);
  CHECK_FALSE(copy_blobs(*from, *copied, *blob, BlobTransfer::copy));
  CHECK_FALSE(copied->has_blob(blob->digest));
}

TEST_CASE("link_blobs copies what it cannot link, except layers, which it returns")
{
  // Links fail across file systems (EXDEV) as they do for another user's
  // files (EPERM under fs.protected_hardlinks): /dev/shm against the temp dir.
  if (!fs::is_directory("/dev/shm")) {
    MESSAGE("skipped: no /dev/shm to link across");
    return;
  }
  TempDir here(fs::temp_directory_path());
  TempDir there("/dev/shm");
  struct stat a{}, b{};
  REQUIRE(::stat(here.path().c_str(), &a) == 0);
  REQUIRE(::stat(there.path().c_str(), &b) == 0);
  if (a.st_dev == b.st_dev) {
    MESSAGE("skipped: the temp dir is on /dev/shm's file system, where every link succeeds");
    return;
  }
  auto from = Layout::create(there.path() / "from");
  REQUIRE(from);
  auto layer = from->write_blob("layer bytes", std::string(mediatype::k_oci_layer_gzip));
  auto config = from->write_blob("{}", std::string(mediatype::k_oci_config));
  REQUIRE(layer);
  REQUIRE(config);
  auto descriptor_json = [](const Descriptor& d) {
    return fmt::format(R"({{"mediaType":"{}","digest":"{}","size":{}}})", d.media_type, d.digest.str(), d.size);
  };
  auto manifest = from->write_blob(fmt::format(R"({{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{}]}})",
                                               mediatype::k_oci_manifest, descriptor_json(*config),
                                               descriptor_json(*layer)),
                                   std::string(mediatype::k_oci_manifest));
  REQUIRE(manifest);
  auto to = Layout::create(here.path() / "to");
  REQUIRE(to);
  auto left = link_blobs(*from, *to, *manifest);
  REQUIRE(left);
  REQUIRE(left->size() == 1);
  CHECK(left->front().digest == layer->digest);
  CHECK(to->has_blob(manifest->digest));
  CHECK(to->has_blob(config->digest));
  CHECK_FALSE(to->has_blob(layer->digest));
}
