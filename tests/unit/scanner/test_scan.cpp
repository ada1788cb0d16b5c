#include "scanner/db_import.hpp"
#include "scanner/output.hpp"
#include "scanner/report.hpp"
#include "tests/unit/scanner/rootfs_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace kiln::scanner;

namespace {

// A rootfs with one Debian package (source differs from the binary) that
// ships a Python package, plus a pip-installed copy of the same project.
struct Fixture
{
  RootfsFixture root;
  RootfsFixture dbdir;
  std::filesystem::path db_path = dbdir.path() / "db";

  Fixture()
  {
    root.put("etc/os-release", "ID=debian\nVERSION_ID=12\n");
    root.put("var/lib/dpkg/status.d/python3-starlette",
             "Package: python3-starlette\nSource: starlette\nVersion: 0.26.1-1+deb12u2\nArchitecture: all\n");
    root.put("var/lib/dpkg/status.d/python3-starlette.md5sums",
             "00  usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA\n");
    root.put("usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA",
             "Name: starlette\nVersion: 0.26.1\n");
    root.put("opt/venv/lib/site-packages/starlette-0.26.1.dist-info/METADATA",
             "Name: starlette\nVersion: 0.26.1\n");
    dbdir.put(
        "osv.jsonl",
        R"({"id":"PY-1","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"starlette"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0.27.0"}]}]}]})"
        "\n"
        R"({"id":"DEB-1","aliases":["CVE-2"],"affected":[{"package":{"ecosystem":"Debian:12","name":"starlette"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}],"ecosystem_specific":{"urgency":"low"}},)"
        R"({"package":{"ecosystem":"Debian","name":"starlette"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]})"
        "\n");
    auto stats = import_advisories({dbdir.path() / "osv.jsonl"}, db_path, {"test", "2024-10-10", ""});
    REQUIRE_MESSAGE(stats, stats.error());
  }
};

} // namespace

// DEB-1 names both "Debian:12" and the bare "Debian": still one finding.
TEST_CASE("scan matches Debian-owned Python packages through Debian only")
{
  Fixture fx;
  auto db = AdvisoryDb::open(fx.db_path);
  REQUIRE(db);
  auto rootfs = Rootfs::open(fx.root.path());
  REQUIRE(rootfs);
  auto report = scan(rootfs->fd(), *db, ScanOptions{});
  REQUIRE_MESSAGE(report, report.error());
  REQUIRE(report->findings.size() == 2);
  const auto& packages = report->catalogue.packages;
  const auto& deb = report->findings[0];
  CHECK(deb.id == "DEB-1");
  CHECK(packages[deb.package].name == "python3-starlette");
  CHECK(deb.rating.severity == Severity::low);
  CHECK_FALSE(deb.fixed_in);
  const auto& pip = report->findings[1];
  CHECK(pip.id == "PY-1");
  CHECK(packages[pip.package].location == "opt/venv/lib/site-packages/starlette-0.26.1.dist-info/METADATA");
  CHECK(report->db["version"] == "2024-10-10");
  CHECK(trips(*report, Severity::low));
  CHECK_FALSE(trips(*report, Severity::medium));
}

TEST_CASE("ignore rules and --ignore-unfixed move findings to suppressed")
{
  Fixture fx;
  auto db = AdvisoryDb::open(fx.db_path);
  auto rootfs = Rootfs::open(fx.root.path());
  ScanOptions options;
  options.ignore_unfixed = IgnoreUnfixed::yes;
  options.ignores = *parse_ignore("[[ignore]]\nid = \"CVE-1\"\nreason = \"r\"\n", "i.toml");
  auto report = scan(*rootfs, *db, options);
  REQUIRE(report);
  CHECK(report->findings.empty());
  REQUIRE(report->suppressed.size() == 2);
  CHECK(report->suppressed[0].reason == "unfixed (--ignore-unfixed)");
  CHECK(report->suppressed[1].reason == "r");
}

TEST_CASE("output formats carry the report")
{
  Fixture fx;
  auto db = AdvisoryDb::open(fx.db_path);
  auto rootfs = Rootfs::open(fx.root.path());
  ScanOptions options;
  options.target = "registry.example/app";
  auto report = scan(*rootfs, *db, options);
  REQUIRE(report);

  auto table = to_table(*report);
  CHECK(table.find("python3-starlette 0.26.1-1+deb12u2 (deb, source starlette 0.26.1-1+deb12u2)") !=
        std::string::npos);
  CHECK(table.find("(no fix) [low]") != std::string::npos);

  auto json = to_json(*report);
  CHECK(json["schema"] == "kiln.scan/v1");
  CHECK(json["summary"]["LOW"] == 1);
  CHECK(json["summary"]["UNKNOWN"] == 1);
  CHECK(json["packages"][2]["owned_by"] == "python3-starlette");

  auto sarif = to_sarif(*report);
  CHECK(sarif["runs"][0]["automationDetails"]["id"] == "kiln/registry.example/app/");
  CHECK(sarif["runs"][0]["results"][0]["level"] == "note");
  CHECK(sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "2.0");

  auto vuln = to_cosign_vuln(*report);
  CHECK(vuln["scanner"]["db"]["uri"] == "test");
  CHECK(vuln["scanner"]["db"]["version"] == "2024-10-10");
  CHECK(vuln["invocation"]["builder.id"] == "kiln");
  CHECK(vuln["invocation"]["parameters"].is_null());
  CHECK(vuln["metadata"]["scanStartedOn"].get<std::string>().ends_with("Z"));

  auto bom = to_cyclonedx(*report);
  CHECK(bom["specVersion"] == "1.5");
  CHECK(bom["vulnerabilities"].size() == 2);
  // The two starlette copies share a purl, but bom-refs stay unique.
  CHECK(bom["components"][1]["bom-ref"] != bom["components"][2]["bom-ref"]);

  auto spdx = to_spdx(*report);
  CHECK(spdx["packages"].size() == 4);
  CHECK(spdx["relationships"].size() == 4);
  CHECK(parse_format("cosign-vuln") == Format::cosign_vuln);
  CHECK_FALSE(parse_format("xml"));
  CHECK(random_uuid() != random_uuid());
}
