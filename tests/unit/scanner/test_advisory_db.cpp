#include "base/fileio.hpp"
#include "scanner/advisory_db.hpp"

#include <doctest/doctest.h>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace kiln::scanner;

namespace {

Advisory record(const std::string& id, const std::string& ecosystem, const std::string& name)
{
  auto adv = parse_osv(
      nlohmann::json{{"id", id},
                     {"affected",
                      {{{"package", {{"ecosystem", ecosystem}, {"name", name}}},
                        {"ranges", {{{"type", "ECOSYSTEM"}, {"events", {{{"introduced", "0"}}}}}}}}}}});
  REQUIRE(adv);
  return *adv;
}

} // namespace

TEST_CASE("the DB round-trips records and finds them by (ecosystem, normalised name)")
{
  kiln::TempDir dir(std::filesystem::temp_directory_path());
  auto path = dir.path() / "db";
  DbWriter writer;
  CHECK(writer.add(record("A-1", "PyPI", "Jinja2")));
  CHECK(writer.add(record("A-2", "PyPI", "jinja2")));
  CHECK(writer.add(record("B-1", "Debian:12", "openssl")));
  CHECK(writer.add(record("C-1", "npm", "@babel/core")));
  CHECK_FALSE(writer.add(record("G-1", "Go", "golang.org/x/net")));
  REQUIRE(writer.write(path, {{"uri", "test"}}));

  auto db = AdvisoryDb::open(path);
  REQUIRE_MESSAGE(db, db.error());
  CHECK(db->meta()["records"] == 4);
  CHECK(db->meta()["uri"] == "test");
  CHECK(db->key_count() == 3);
  auto jinja = db->lookup("PyPI", "jinja2");
  REQUIRE(jinja);
  REQUIRE(jinja->size() == 2);
  CHECK((*jinja)[0].id == "A-1");
  CHECK(db->lookup("Debian:12", "openssl")->size() == 1);
  CHECK(db->lookup("Debian:11", "openssl")->empty());
  CHECK(db->lookup("npm", "@babel/core")->size() == 1);
  CHECK(db->lookup("PyPI", "zzz")->empty());
  CHECK(db->lookup("", "")->empty());
}

TEST_CASE("a truncated, damaged or foreign DB file is a clear error")
{
  kiln::TempDir dir(std::filesystem::temp_directory_path());
  auto path = dir.path() / "db";
  DbWriter writer;
  writer.add(record("A-1", "PyPI", "x"));
  REQUIRE(writer.write(path, nlohmann::json::object()));
  auto bytes = *kiln::read_file(path);

  REQUIRE(kiln::write_file_atomic(path, bytes.substr(0, bytes.size() - 10), kiln::Durable::no));
  auto truncated = AdvisoryDb::open(path);
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().find("file is truncated or damaged: header says") != std::string::npos);

  REQUIRE(kiln::write_file_atomic(path, bytes.substr(0, 20), kiln::Durable::no));
  CHECK(AdvisoryDb::open(path).error().find("truncated (no complete header)") != std::string::npos);

  REQUIRE(kiln::write_file_atomic(path, "", kiln::Durable::no));
  CHECK(AdvisoryDb::open(path).error().find("truncated or empty") != std::string::npos);

  REQUIRE(kiln::write_file_atomic(path, std::string(100, 'x'), kiln::Durable::no));
  CHECK(AdvisoryDb::open(path).error().find("not a kiln advisory DB") != std::string::npos);

  auto trailer = bytes;
  trailer[trailer.size() - 2] = 'X';
  REQUIRE(kiln::write_file_atomic(path, trailer, kiln::Durable::no));
  CHECK(AdvisoryDb::open(path).error().find("trailer missing") != std::string::npos);

  CHECK(AdvisoryDb::open(dir.path() / "absent").error().find("No such file") != std::string::npos);
}

TEST_CASE("damaged bytes inside a DB give errors or results, never a crash")
{
  kiln::TempDir dir(std::filesystem::temp_directory_path());
  auto path = dir.path() / "db";
  DbWriter writer;
  for (int i = 0; i < 50; ++i) {
    writer.add(record("R-" + std::to_string(i), i % 2 ? "PyPI" : "npm", "p" + std::to_string(i % 7)));
  }
  REQUIRE(writer.write(path, nlohmann::json::object()));
  const auto pristine = *kiln::read_file(path);
  unsigned seed = 1;
  for (int round = 0; round < 300; ++round) {
    auto bytes = pristine;
    for (int flips = 0; flips < 4; ++flips) {
      seed = seed * 1103515245 + 12345;
      size_t at = 64 + (seed >> 8) % (bytes.size() - 72); // keep header and trailer
      bytes[at] = static_cast<char>(seed >> 24);
    }
    REQUIRE(kiln::write_file_atomic(path, bytes, kiln::Durable::no));
    auto db = AdvisoryDb::open(path);
    if (!db) {
      continue;
    }
    for (int i = 0; i < 7; ++i) {
      for (const char* eco : {"PyPI", "npm"}) {
        auto found = db->lookup(eco, "p" + std::to_string(i));
        if (!found) {
          CHECK(found.error().find("advisory DB") != std::string::npos);
        }
      }
    }
  }
}
