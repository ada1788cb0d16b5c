#include "base/fileio.hpp"
#include "scanner/advisory_db.hpp"
#include "scanner/db_import.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <filesystem>

using namespace kiln::scanner;

namespace {

const char* k_rec =
    R"({"id":"%s","modified":"%s","affected":[{"package":{"ecosystem":"%s","name":"%s"},"versions":["1.0"]}]})";

std::string rec(const char* id, const char* eco, const char* name,
                const char* modified = "2024-01-01T00:00:00Z")
{
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, k_rec, id, modified, eco, name);
  return buffer;
}

void write_zip(const std::filesystem::path& path,
               const std::vector<std::pair<std::string, std::string>>& members)
{
  archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const auto& [name, data] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

} // namespace

TEST_CASE("import reads directories, .json, .jsonl and zip archives")
{
  kiln::TempDir dir(std::filesystem::temp_directory_path());
  auto src = dir.path() / "osv";
  std::filesystem::create_directories(src / "sub");
  REQUIRE(kiln::write_file_atomic(src / "a.json", rec("A-1", "PyPI", "a"), kiln::Durable::no));
  REQUIRE(kiln::write_file_atomic(src / "sub" / "b.json",
                                  "[" + rec("B-1", "npm", "@s/b") + "," + rec("B-2", "Go", "x") + "]",
                                  kiln::Durable::no));
  REQUIRE(kiln::write_file_atomic(src / "notes.txt", "ignored", kiln::Durable::no));
  auto jsonl = dir.path() / "more.jsonl";
  REQUIRE(kiln::write_file_atomic(
      jsonl,
      rec("C-1", "Debian:12", "openssl") + "\n\n" + R"({"id":"BAD-1","affected":[{"versions":[1]}]})" + "\n" +
          R"({"id":"W-1","withdrawn":"2024-01-01T00:00:00Z","affected":[]})" + "\n{not json\n" +
          rec("A-1", "PyPI", "a", "2024-06-01T00:00:00Z") + "\n",
      kiln::Durable::no));
  auto zip = dir.path() / "all.zip";
  write_zip(zip, {{"D-1.json", rec("D-1", "PyPI", "Zope.Interface")}, {"README", "x"}});

  auto out = dir.path() / "db";
  auto stats = import_advisories({src, jsonl, zip}, out, {"test-uri", "", ""});
  REQUIRE_MESSAGE(stats, stats.error());
  CHECK(stats->read == 7);
  CHECK(stats->withdrawn == 1);
  CHECK(stats->malformed == 2);
  CHECK(stats->duplicates == 1);
  CHECK(stats->stored == 4); // A-1, B-1, C-1, D-1; B-2 is Go only
  CHECK(stats->unsupported.at("Go") == 1);
  REQUIRE(stats->problems.size() == 2);
  CHECK(stats->problems[0] == jsonl.string() + ":3: BAD-1: affected[0].versions holds a non-string");
  CHECK(stats->problems[1].starts_with(jsonl.string() + ":5: not JSON"));

  auto db = AdvisoryDb::open(out);
  REQUIRE(db);
  CHECK(db->meta()["uri"] == "test-uri");
  CHECK(db->meta()["version"] == "2024-06-01");
  CHECK(db->meta()["sources"].size() == 3);
  CHECK(db->lookup("PyPI", "zope-interface")->size() == 1);
  CHECK(db->lookup("npm", "@s/b")->size() == 1);
  auto a = db->lookup("PyPI", "a");
  REQUIRE(a->size() == 1);
  CHECK((*a)[0].modified == "2024-06-01T00:00:00Z"); // the later copy won
}

TEST_CASE("an unreadable source fails the import and writes nothing")
{
  kiln::TempDir dir(std::filesystem::temp_directory_path());
  auto out = dir.path() / "db";
  auto stats = import_advisories({dir.path() / "missing.jsonl"}, out, {});
  REQUIRE_FALSE(stats);
  CHECK(stats.error().find("missing.jsonl") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}
