#include <doctest/doctest.h>

#include "base/strings.hpp"

using namespace kiln;

TEST_CASE("base64 round-trips with padding and skips line breaks")
{
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_decode("Zm9v\r\nYmFy") == std::optional<std::string>("foobar"));
  CHECK(base64_decode("Zg==") == std::optional<std::string>("f"));
  CHECK_FALSE(base64_decode("Zg=").has_value());
  CHECK_FALSE(base64_decode("Zg==Zg==").has_value());
  CHECK_FALSE(base64_decode("Z!==").has_value());
}

TEST_CASE("parse_u64 takes whole decimal strings only")
{
  CHECK(parse_u64("0") == std::optional<uint64_t>(0));
  CHECK(parse_u64("18446744073709551615") == std::optional<uint64_t>(UINT64_MAX));
  CHECK_FALSE(parse_u64("").has_value());
  CHECK_FALSE(parse_u64("12a").has_value());
  CHECK_FALSE(parse_u64("-1").has_value());
  CHECK_FALSE(parse_u64("18446744073709551616").has_value());
}

TEST_CASE("rfc3339_utc formats unix seconds")
{
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_utc(1700000000) == "2023-11-14T22:13:20Z");
}

TEST_CASE("split keeps empty fields")
{
  auto parts = split("a::b", ':');
  REQUIRE(parts.size() == 3);
  CHECK(parts[1].empty());
}
