#include "base/fileio.hpp"
#include "builder/statcache.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

namespace {

oci::Digest digest_of(StatCache& cache, const fs::path& file, const std::string& name)
{
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd);
  auto digest = cache.digest(name, fd.get());
  REQUIRE(digest);
  return *digest;
}

// No one can set a file's ctime back, so a test that needs a trusted
// record waits past the racy window after writing the file.
void wait_past_racy_window()
{
  struct timespec pause{1, 100'000'000};
  ::nanosleep(&pause, nullptr);
}

} // namespace

TEST_CASE("a file hashed once is not read again while its stat is unchanged")
{
  TempDir dir(fs::temp_directory_path());
  fs::path file = dir.path() / "a.txt";
  REQUIRE(write_file_atomic(file, "hello\n", Durable::no));
  wait_past_racy_window();
  {
    StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
    CHECK(digest_of(cache, file, "a.txt") == oci::Digest::of("hello\n"));
    CHECK(cache.files_hashed() == 1);
    CHECK(cache.bytes_hashed() == 6);
    REQUIRE(cache.save());
  }
  StatCache again = StatCache::load(dir.path() / "cache", dir.path());
  CHECK(digest_of(again, file, "a.txt") == oci::Digest::of("hello\n"));
  CHECK(again.files_seen() == 1);
  CHECK(again.files_hashed() == 0);
  CHECK(again.bytes_hashed() == 0);
}

TEST_CASE("a back-dated edit of the same size is caught through ctime")
{
  TempDir dir(fs::temp_directory_path());
  fs::path file = dir.path() / "a.txt";
  REQUIRE(write_file_atomic(file, "hello\n", Durable::no));
  struct stat before{};
  REQUIRE(::stat(file.c_str(), &before) == 0);
  wait_past_racy_window();
  StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
  digest_of(cache, file, "a.txt");
  REQUIRE(cache.save());
  // Rewrite in place (same inode, same size) and set mtime back.
  {
    Fd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    REQUIRE(fd);
    REQUIRE(::pwrite(fd.get(), "HELLO\n", 6, 0) == 6);
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    REQUIRE(::futimens(fd.get(), times) == 0);
  }
  StatCache again = StatCache::load(dir.path() / "cache", dir.path());
  CHECK(digest_of(again, file, "a.txt") == oci::Digest::of("HELLO\n"));
  CHECK(again.files_hashed() == 1);
}

TEST_CASE("a digest taken within the racy window is not trusted")
{
  TempDir dir(fs::temp_directory_path());
  fs::path file = dir.path() / "fresh.txt";
  REQUIRE(write_file_atomic(file, "new\n", Durable::no));
  StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
  digest_of(cache, file, "fresh.txt");
  REQUIRE(cache.save());
  StatCache again = StatCache::load(dir.path() / "cache", dir.path());
  digest_of(again, file, "fresh.txt");
  CHECK(again.files_hashed() == 1); // just written: read again
}

TEST_CASE("a file that changes while it is read is read again")
{
  TempDir dir(fs::temp_directory_path());
  fs::path file = dir.path() / "moving.txt";
  REQUIRE(write_file_atomic(file, "first\n", Durable::no));
  StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
  int reads = 0;
  cache.set_read_hook([&] {
    if (reads++ == 0) {
      Fd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
      REQUIRE(::write(fd.get(), "more\n", 5) == 5);
    }
  });
  CHECK(digest_of(cache, file, "moving.txt") == oci::Digest::of("first\nmore\n"));
  CHECK(cache.files_hashed() == 2);

  StatCache restless = StatCache::load(dir.path() / "cache", dir.path());
  restless.set_read_hook([&] {
    Fd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    REQUIRE(::write(fd.get(), "x", 1) == 1);
  });
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  auto digest = restless.digest("moving.txt", fd.get());
  REQUIRE_FALSE(digest);
  CHECK(digest.error().find("kept changing") != std::string::npos);
}

TEST_CASE("files outside the context are hashed every time and never remembered")
{
  TempDir dir(fs::temp_directory_path());
  fs::path file = dir.path() / "spooled";
  REQUIRE(write_file_atomic(file, "x", Durable::no));
  wait_past_racy_window();
  StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
  digest_of(cache, file, "");
  digest_of(cache, file, "");
  CHECK(cache.files_hashed() == 2);
  REQUIRE(cache.save());
  CHECK_FALSE(fs::exists(cache.file()));
}

TEST_CASE("an unreadable stat cache starts empty")
{
  TempDir dir(fs::temp_directory_path());
  StatCache first = StatCache::load(dir.path() / "cache", dir.path());
  fs::create_directories(first.file().parent_path());
  REQUIRE(write_file_atomic(first.file(), "{not json", Durable::no));
  fs::path file = dir.path() / "a";
  REQUIRE(write_file_atomic(file, "a", Durable::no));
  StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
  CHECK(digest_of(cache, file, "a") == oci::Digest::of("a"));
}

TEST_CASE("records of files that left the context are dropped when the cache is next written")
{
  TempDir dir(fs::temp_directory_path());
  for (const char* name : {"gone.txt", "kept.txt", "new.txt"}) {
    REQUIRE(write_file_atomic(dir.path() / name, name, Durable::no));
  }
  {
    StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
    digest_of(cache, dir.path() / "gone.txt", "gone.txt");
    digest_of(cache, dir.path() / "kept.txt", "kept.txt");
    REQUIRE(cache.save());
  }
  fs::remove(dir.path() / "gone.txt");
  auto recorded = [&](const std::string& name) {
    auto text = read_file(StatCache::load(dir.path() / "cache", dir.path()).file());
    REQUIRE(text);
    return text->find('"' + name + '"') != std::string::npos;
  };
  {
    // A build that reads neither leaves the file as it was.
    StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
    REQUIRE(cache.save());
    CHECK(recorded("gone.txt"));
  }
  {
    // One that records something new writes the file without the record
    // of the removed file, and keeps those it did not read but still exist.
    StatCache cache = StatCache::load(dir.path() / "cache", dir.path());
    digest_of(cache, dir.path() / "new.txt", "new.txt");
    REQUIRE(cache.save());
  }
  CHECK_FALSE(recorded("gone.txt"));
  CHECK(recorded("kept.txt"));
  CHECK(recorded("new.txt"));
}
