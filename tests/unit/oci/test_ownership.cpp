#include <doctest/doctest.h>

#include "oci/ownership.hpp"

using namespace kiln::oci;

TEST_CASE("ownership records round-trip through their JSON form")
{
  OwnershipRecord file{"usr/bin/su", EntryType::regular, 0, 0, 04755, 0, 0, false,
                       {{"security.capability", std::string("\x01\x00\x00\x02", 4)}}};
  OwnershipRecord dev{"dev/null", EntryType::char_device, 0, 0, 0666, 1, 3, true, {}};
  auto text = ownership_json({file, dev});
  CHECK(text.find("\"device\":[1,3]") != std::string::npos);
  CHECK(text.find("\"skipped\":true") != std::string::npos);
  auto parsed = parse_ownership_json(text);
  REQUIRE(parsed);
  REQUIRE(parsed->size() == 2);
  CHECK((*parsed)[0] == file);
  CHECK((*parsed)[1] == dev);
}

TEST_CASE("malformed ownership records are refused with the cause")
{
  CHECK_FALSE(parse_ownership_json("{"));
  CHECK_FALSE(parse_ownership_json(R"({"version":2,"entries":[]})"));
  auto bad_type = parse_ownership_json(R"({"version":1,"entries":[{"path":"x","type":"socket","uid":0,"gid":0,"mode":0}]})");
  REQUIRE_FALSE(bad_type);
  CHECK(bad_type.error().find("socket") != std::string::npos);
  CHECK(parse_ownership_json(R"({"version":1,"entries":[]})")->empty());
}
