#include "base/fileio.hpp"
#include "builder/buildcache.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace kiln;
using namespace kiln::builder;
namespace fs = std::filesystem;

namespace {

StepInputs run_inputs()
{
  StepInputs inputs;
  inputs.parent = oci::Digest::of("parent").hex();
  inputs.kind = "RUN";
  inputs.instruction = oci::Json{{"kind", "RUN"}, {"args", {"make"}}};
  inputs.platform = "linux/amd64";
  inputs.layer = "gzip:3:1700000000";
  inputs.args = {{"VERSION", "1"}};
  inputs.env = {"PATH=/usr/bin", "MODE=prod"};
  inputs.id_map = "ranges";
  inputs.location = "Containerfile:3";
  inputs.summary = "RUN make";
  return inputs;
}

SourceManifest manifest(std::vector<std::pair<std::string, std::string>> files)
{
  SourceManifest m;
  m.files = std::move(files);
  return m;
}

} // namespace

TEST_CASE("a step key covers every input and nothing else")
{
  const StepInputs base = run_inputs();
  const oci::Digest key = base.key();
  CHECK(run_inputs().key() == key);

  StepInputs moved = base; // where it is written and how it reads are not inputs
  moved.location = "Other:9";
  moved.summary = "RUN  make";
  CHECK(moved.key() == key);

  auto changed = [&](auto edit) {
    StepInputs copy = base;
    edit(copy);
    return copy.key() != key;
  };
  CHECK(changed([](StepInputs& i) { i.parent = oci::Digest::of("other").hex(); }));
  CHECK(changed([](StepInputs& i) { i.instruction["args"] = {"make", "install"}; }));
  CHECK(changed([](StepInputs& i) { i.platform = "linux/arm64"; }));
  CHECK(changed([](StepInputs& i) { i.layer = "zstd:3:1700000000"; }));
  CHECK(changed([](StepInputs& i) { i.args = {{"VERSION", "2"}}; }));
  CHECK(changed([](StepInputs& i) { i.env.push_back("DEBUG=1"); }));
  CHECK(changed([](StepInputs& i) { i.id_map = "single id"; }));
  CHECK(changed([](StepInputs& i) { i.from = {"sha256:abc"}; }));
  CHECK(changed([](StepInputs& i) { i.files = oci::Digest::of("files").str(); }));
}

TEST_CASE("a cache entry survives its JSON")
{
  CacheEntry entry;
  entry.inputs = run_inputs();
  entry.key = entry.inputs.key();
  entry.created = "2023-11-14T22:13:20Z";
  oci::Descriptor layer;
  layer.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  layer.digest = oci::Digest::of("blob");
  layer.size = 4;
  entry.layer = layer;
  entry.diff_id = oci::Digest::of("tar");
  entry.blobs = {layer.digest};
  entry.dirs = {"layer-" + entry.diff_id->hex()};
  auto back = CacheEntry::from_json(entry.to_json());
  REQUIRE(back);
  CHECK(back->key == entry.key);
  CHECK(back->inputs.key() == entry.key);
  CHECK(back->inputs.location == "Containerfile:3");
  CHECK(back->created == entry.created);
  REQUIRE(back->layer);
  CHECK(back->layer->digest == layer.digest);
  CHECK(*back->diff_id == *entry.diff_id);
  CHECK(back->dirs == entry.dirs);
  CHECK_FALSE(CacheEntry::from_json(oci::Json{{"version", 99}}));
}

TEST_CASE("changes between two source manifests are named")
{
  auto before = manifest({{"src/a.py", "1"}, {"src/b.py", "2"}, {"src/c.py", "3"}});
  CHECK(describe_changes(before, manifest({{"src/a.py", "1"}, {"src/b.py", "9"}, {"src/c.py", "3"}})) ==
        "1 file changed: src/b.py");
  CHECK(describe_changes(before, manifest({{"src/a.py", "1"}, {"src/c.py", "3"}, {"src/d.py", "4"}})) ==
        "1 file added: src/d.py; 1 file removed: src/b.py");
  CHECK(describe_changes(before, manifest({{"src/a.py", "7"}, {"src/b.py", "8"}, {"src/c.py", "9"},
                                           {"src/e.py", "1"}})) ==
        "3 files changed: src/a.py, src/b.py, src/c.py; 1 file added: src/e.py");
  auto many = manifest({{"a", "2"}, {"b", "2"}, {"c", "2"}, {"d", "2"}});
  CHECK(describe_changes(manifest({{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}}), many) ==
        "4 files changed: a, b, c, ...");
}

TEST_CASE("a miss is explained by the first input that differs")
{
  const StepInputs before = run_inputs();
  auto differ = [&](auto edit) {
    StepInputs after = before;
    edit(after);
    return describe_difference(before, after, nullptr, nullptr);
  };
  CHECK(differ([](StepInputs& i) { i.instruction["args"] = {"make", "-j2"}; }) ==
        "instruction changed (was: RUN make)");
  CHECK(differ([](StepInputs& i) { i.layer = "zstd:3:1700000000"; }) ==
        "layer options changed (was gzip:3:1700000000, now zstd:3:1700000000)");
  CHECK(differ([](StepInputs& i) { i.args = {{"VERSION", "2"}}; }) == "ARG VERSION changed");
  CHECK(differ([](StepInputs& i) { i.args.emplace_back("EXTRA", "x"); }) == "ARG EXTRA changed");
  CHECK(differ([](StepInputs& i) { i.env = {"PATH=/usr/bin", "MODE=dev"}; }) == "ENV MODE changed");
  CHECK(differ([](StepInputs& i) { i.from = {"sha256:other"}; }) == "the stage or image it reads from changed");
  CHECK(differ([](StepInputs& i) { i.files = "sha256:x"; }) == "sources changed");
  auto old_files = manifest({{"src/app.py", "1"}});
  auto new_files = manifest({{"src/app.py", "2"}});
  StepInputs copy = before;
  copy.files = "sha256:y";
  CHECK(describe_difference(before, copy, &old_files, &new_files) == "1 file changed: src/app.py");

  StepInputs from_old;
  from_old.kind = "FROM";
  from_old.instruction = oci::Json{{"manifest", "sha256:old"}};
  StepInputs from_new = from_old;
  from_new.instruction = oci::Json{{"manifest", "sha256:new"}};
  CHECK(describe_difference(from_old, from_new, nullptr, nullptr) == "base changed: was sha256:old, now sha256:new");
}

TEST_CASE("the cache stores, finds and explains entries")
{
  TempDir dir(fs::temp_directory_path());
  auto cache = BuildCache::open(dir.path() / "cache");
  REQUIRE(cache);
  CacheEntry entry;
  entry.inputs = run_inputs();
  entry.key = entry.inputs.key();
  entry.created = "2023-11-14T22:13:20Z";
  auto blob = cache->blobs().write_blob("layer bytes", "application/vnd.oci.image.layer.v1.tar");
  REQUIRE(blob);
  entry.layer = *blob;
  entry.diff_id = oci::Digest::of("layer bytes");
  entry.blobs = {blob->digest};
  CHECK_FALSE(cache->find(entry.key));
  REQUIRE(cache->store(entry));
  auto found = cache->find(entry.key);
  REQUIRE(found);
  CHECK(found->layer->digest == blob->digest);
  CHECK(cache->entries().size() == 1);

  // A sibling of another kind is no comparison; one of the same kind is.
  StepInputs copy = entry.inputs;
  copy.kind = "COPY";
  copy.instruction = oci::Json{{"kind", "COPY"}};
  CHECK(cache->explain_miss(copy, nullptr).empty());
  StepInputs changed = entry.inputs;
  changed.args = {{"VERSION", "2"}};
  CHECK(cache->explain_miss(changed, nullptr) == "ARG VERSION changed");
  StepInputs elsewhere = entry.inputs;
  elsewhere.parent = oci::Digest::of("another parent").hex();
  CHECK(cache->explain_miss(elsewhere, nullptr).empty());

  // An entry whose blob went away is not found: the step is built again.
  fs::remove(cache->blobs().blob_path(blob->digest));
  CHECK_FALSE(cache->find(entry.key));
  cache->remove(entry);
  CHECK(cache->entries().empty());
}
