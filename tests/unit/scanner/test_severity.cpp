#include "scanner/severity.hpp"

#include <doctest/doctest.h>

using namespace kiln::scanner;

TEST_CASE("severity follows vector, then database_specific, then urgency")
{
  Advisory adv;
  Affected affected;
  CHECK(rate(adv, affected).severity == Severity::unknown);

  affected.urgency = "low**";
  CHECK(rate(adv, affected).severity == Severity::low);
  affected.urgency = "unimportant";
  CHECK(rate(adv, affected).severity == Severity::low);
  affected.urgency = "medium";
  CHECK(rate(adv, affected).severity == Severity::medium);
  affected.urgency = "not yet assigned";
  CHECK(rate(adv, affected).severity == Severity::unknown);

  adv.database_severity = "MODERATE";
  CHECK(rate(adv, affected).severity == Severity::medium);
  CHECK(rate(adv, affected).source == "database_specific");

  adv.severity.push_back({"CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"});
  auto v4 = rate(adv, affected);
  CHECK(v4.severity == Severity::medium);
  CHECK(v4.vector.starts_with("CVSS:4.0/"));
  CHECK_FALSE(v4.score);

  adv.severity.push_back({"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"});
  auto top = rate(adv, affected);
  CHECK(top.severity == Severity::high);
  REQUIRE(top.score);
  CHECK(*top.score == doctest::Approx(7.5));

  // A per-package vector wins over the record's own.
  affected.severity.push_back({"CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"});
  CHECK(rate(adv, affected).severity == Severity::critical);
}

TEST_CASE("score bands and names")
{
  CHECK(band(0.0) == Severity::none);
  CHECK(band(0.1) == Severity::low);
  CHECK(band(3.9) == Severity::low);
  CHECK(band(4.0) == Severity::medium);
  CHECK(band(6.9) == Severity::medium);
  CHECK(band(7.0) == Severity::high);
  CHECK(band(8.9) == Severity::high);
  CHECK(band(9.0) == Severity::critical);
  CHECK(parse_severity("High") == Severity::high);
  CHECK(parse_severity("moderate") == Severity::medium);
  CHECK_FALSE(parse_severity("severe"));
  CHECK(severity_name(Severity::critical) == "CRITICAL");
  CHECK(Severity::critical > Severity::high);
  CHECK(Severity::low > Severity::unknown);
}
