// Replays the fuzzer's corpus (tests/fuzz/corpus/) and every input that
// once crashed it (tests/fuzz/regressions/) through the fuzz target, in the
// ordinary build: each must parse or fail with kiln::Error, nothing else.

#include "base/fileio.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

namespace {

size_t replay(const fs::path& dir)
{
  size_t count = 0;
  if (!fs::is_directory(dir)) {
    return count;
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto data = kiln::read_file(file);
    REQUIRE_MESSAGE(data.has_value(), data.error());
    CAPTURE(file);
    CHECK_NOTHROW(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data->data()), data->size()));
    ++count;
  }
  return count;
}

} // namespace

TEST_CASE("the fuzz corpus and the crash regressions parse or fail cleanly")
{
  fs::path root(KILN_FUZZ_DIR);
  CHECK(replay(root / "corpus") > 0);
  replay(root / "regressions");
}
