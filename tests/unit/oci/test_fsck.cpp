#include <doctest/doctest.h>

#include <filesystem>

#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.hpp"
#include "oci/assemble.hpp"
#include "oci/fsck.hpp"
#include "oci/mediatype.hpp"

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

namespace {

// Makes a tagged one-layer image and returns its manifest descriptor.
Descriptor tagged_image(const Layout& layout, std::string_view tag)
{
  auto layer = layout.write_blob("not really a tar", mediatype::k_oci_layer_tar);
  REQUIRE(layer);
  ImageConfig config;
  config.architecture = "amd64";
  config.os = "linux";
  config.diff_ids = {layer->digest};
  auto manifest = write_image(layout, config, {*layer});
  REQUIRE(manifest);
  REQUIRE(layout.set_tag(tag, *manifest));
  return *manifest;
}

// Runs `work` in a child that dies with _exit right after it, as a crash
// would: no destructors, no cleanup.
template<typename Work> void crash_after(Work work)
{
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    work();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
}

size_t count_files(const fs::path& dir)
{
  size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

} // namespace

TEST_CASE("a healthy layout passes and names every blob")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  tagged_image(*layout, "v1");
  auto report = fsck(*layout);
  CHECK(report.problems.empty());
  CHECK(report.blobs_checked == 3);
}

TEST_CASE("a crash in the middle of a blob write leaves a layout fsck passes")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  tagged_image(*layout, "v1");
  crash_after([&] {
    auto writer = layout->new_blob();
    (void)writer->write("half a blob", 11);
    ::_exit(0); // before commit: the temporary file stays
  });
  auto report = fsck(*layout);
  CHECK(report.problems.empty());
  CHECK(layout->resolve("v1"));
}

TEST_CASE("a crash between the blobs and the index update leaves a layout fsck passes")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  Descriptor first = tagged_image(*layout, "v1");
  crash_after([&] {
    auto layer = layout->write_blob("second layer", mediatype::k_oci_layer_tar);
    ImageConfig config;
    config.architecture = "amd64";
    config.os = "linux";
    config.diff_ids = {layer->digest};
    (void)write_image(*layout, config, {*layer});
    ::_exit(0); // the new image's blobs are durable; index.json never names them
  });
  auto report = fsck(*layout);
  CHECK(report.problems.empty());
  CHECK(layout->resolve("v1")->digest == first.digest);
  CHECK(layout->read_index()->manifests.size() == 1);
}

TEST_CASE("fsck reports every problem, not just the first")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  tagged_image(*layout, "a");
  auto manifest = tagged_image(*layout, "b");
  auto image_manifest = ImageManifest::parse(layout->read_blob(manifest).value()).value();
  fs::remove(layout->blob_path(image_manifest.layers[0].digest));
  REQUIRE(write_file_atomic(layout->blob_path(image_manifest.config.digest), "{}"));
  auto report = fsck(*layout);
  REQUIRE(report.problems.size() == 2);
  CHECK(report.problems[0].find("mismatch") != std::string::npos);
  CHECK(report.problems[1].find("blob is missing") != std::string::npos);
}

TEST_CASE("gc removes unreachable blobs and stale temporary files, keeps referrers")
{
  TempDir tmp(fs::temp_directory_path());
  auto layout = Layout::create(tmp.path());
  REQUIRE(layout);
  Descriptor image = tagged_image(*layout, "v1");
  auto orphan = layout->write_blob("orphan", "text/plain");
  REQUIRE(orphan);
  // A referrer: a manifest whose subject is the image, named by no tag.
  auto bundle = layout->write_blob("bundle", "application/vnd.dev.sigstore.bundle.v0.3+json");
  auto empty = layout->write_blob("{}", mediatype::k_oci_empty);
  ImageManifest referrer;
  referrer.media_type = mediatype::k_oci_manifest;
  referrer.config = *empty;
  referrer.layers = {*bundle};
  referrer.subject = image;
  auto referrer_descriptor = layout->write_blob(referrer.serialize(), mediatype::k_oci_manifest);
  REQUIRE(referrer_descriptor);
  fs::path stale = tmp.path() / "blobs" / "sha256" / ".tmp-stale";
  REQUIRE(write_file_atomic(stale, "partial"));
  // Age everything past the one-hour grace period.
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (auto& e : fs::directory_iterator(tmp.path() / "blobs" / "sha256")) {
    fs::last_write_time(e.path(), old);
  }
  auto report = fsck(*layout);
  REQUIRE(report.problems.empty());
  auto gc = collect_garbage(*layout, report);
  REQUIRE(gc);
  CHECK(gc->removed == 2); // the orphan and the stale temporary file
  CHECK_FALSE(layout->has_blob(orphan->digest));
  CHECK_FALSE(fs::exists(stale));
  CHECK(layout->has_blob(referrer_descriptor->digest));
  CHECK(layout->has_blob(bundle->digest));
  CHECK(count_files(tmp.path() / "blobs") == 6);
  CHECK(fsck(*layout).problems.empty());
}
