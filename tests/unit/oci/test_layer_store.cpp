#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "base/fileio.hpp"
#include "oci/layer_store.hpp"
#include "oci/layer_writer.hpp"
#include "layer_fixtures.hpp"

using namespace kiln;
using namespace kiln::oci;
namespace fs = std::filesystem;

namespace {

struct Blob
{
  std::string bytes;
  LayerResult result;
};

Blob make_blob()
{
  StringSink sink;
  LayerWriteOptions options;
  options.compression.kind = Compression::none; // so the test can flip a byte of content
  auto owned = file("etc/owned", "o");
  owned.uid = 4242;
  auto written = write_layer({node("etc", EntryType::directory), file("etc/hostname", "kiln\n"), owned}, {},
                             options, sink);
  REQUIRE(written);
  return {sink.data(), *written};
}

std::function<Result<Fd>()> opener(const std::string& bytes, std::atomic<int>* opened = nullptr)
{
  return [bytes, opened]() -> Result<Fd> {
    if (opened != nullptr) {
      ++*opened;
    }
    Fd fd(::memfd_create("blob", MFD_CLOEXEC));
    (void)write_all(fd.get(), bytes.data(), bytes.size());
    ::lseek(fd.get(), 0, SEEK_SET);
    return fd;
  };
}

size_t entries_in(const fs::path& dir)
{
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) {
    ++n;
  }
  return n;
}

} // namespace

TEST_CASE("a layer is extracted once and then found by its diff_id")
{
  TempDir tmp(fs::temp_directory_path());
  auto store = LayerStore::open(tmp.path() / "layers");
  REQUIRE(store);
  auto blob = make_blob();
  CHECK_FALSE(store->find(blob.result.diff_id));
  std::atomic<int> opened{0};
  auto first = store->ensure(blob.result.diff_id, opener(blob.bytes, &opened), blob.result.digest);
  REQUIRE_MESSAGE(first, (first ? "" : first.error()));
  CHECK(read_file(first->rootfs / "etc/hostname").value() == "kiln\n");
  CHECK(first->rootfs == tmp.path() / "layers" / blob.result.diff_id.hex() / "rootfs");
  auto second = store->ensure(blob.result.diff_id, opener(blob.bytes, &opened));
  REQUIRE(second);
  CHECK(opened == 1);
  CHECK(second->unapplied == first->unapplied);
  if (::geteuid() != 0) {
    // Every entry is owned by root or 4242, neither of which this user is.
    REQUIRE(first->unapplied.size() == 3);
    CHECK(first->unapplied[2].path == "etc/owned");
    CHECK(first->unapplied[2].uid == 4242);
  }
}

TEST_CASE("concurrent extractions of one layer share a single result")
{
  TempDir tmp(fs::temp_directory_path());
  auto store = LayerStore::open(tmp.path());
  REQUIRE(store);
  auto blob = make_blob();
  std::atomic<int> opened{0};
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (store->ensure(blob.result.diff_id, opener(blob.bytes, &opened))) {
        ++ok;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(ok == 4);
  CHECK(opened == 1);
}

TEST_CASE("a corrupted or truncated blob leaves nothing in the store")
{
  TempDir tmp(fs::temp_directory_path());
  auto store = LayerStore::open(tmp.path());
  REQUIRE(store);
  auto blob = make_blob();
  auto truncated = store->ensure(blob.result.diff_id, opener(blob.bytes.substr(0, blob.bytes.size() / 2)));
  REQUIRE_FALSE(truncated);
  auto corrupt_bytes = blob.bytes;
  corrupt_bytes[1025] ^= 1; // inside the content of a file: only the digest can tell
  auto corrupt = store->ensure(blob.result.diff_id, opener(corrupt_bytes));
  REQUIRE_FALSE(corrupt);
  CHECK(corrupt.error().find("diff_id mismatch") != std::string::npos);
  CHECK_FALSE(store->find(blob.result.diff_id));
  for (auto& e : fs::directory_iterator(tmp.path())) {
    CHECK(e.path().extension() == ".lock"); // only the lock file remains
  }
  CHECK(entries_in(tmp.path()) == 1);
}
