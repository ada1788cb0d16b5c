#include "builder/flags.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

namespace {

std::vector<RawFlag> flags_of(std::string_view text)
{
  Diagnostics diagnostics("Containerfile");
  ParseOptions options;
  ParseContext context(options, diagnostics, '\\');
  LogicalLine line;
  line.text = std::string(text);
  for (size_t i = 0; i <= text.size(); ++i) {
    line.pos.push_back(SourcePos{1, static_cast<uint32_t>(i + 1)});
  }
  return check_flags(line, split_head(line), context);
}

Mount mount_of(std::string_view value)
{
  Diagnostics diagnostics("Containerfile");
  ParseOptions options;
  ParseContext context(options, diagnostics, '\\');
  return parse_mount(value, SourcePos{1, 1}, context);
}

} // namespace

TEST_CASE("booleans take Go's spellings; a bare boolean flag is true")
{
  auto flags = flags_of("COPY --link --parents=F a b");
  REQUIRE(flags.size() == 2);
  CHECK(flags[0].value == "true");
  CHECK(flags[1].value == "false");
  CHECK_THROWS_WITH_AS(flags_of("COPY --link=maybe a b"),
                       "Containerfile:1:6: expecting boolean value for flag --link: --link=maybe",
                       ParseError);
}

TEST_CASE("unknown, duplicate and valueless flags are refused at the flag")
{
  CHECK_THROWS_WITH_AS(flags_of("WORKDIR --x=1 /a"), "Containerfile:1:9: unknown flag --x for WORKDIR: --x=1",
                       ParseError);
  CHECK_THROWS_WITH_AS(flags_of("ADD --from=a b c"),
                       "Containerfile:1:5: unknown flag --from for ADD: --from=a", ParseError);
  CHECK_THROWS_AS(flags_of("COPY --from=a --from=b x y"), ParseError);
  CHECK(flags_of("COPY --exclude=a --exclude=b x y").size() == 2);
  CHECK(flags_of("RUN --mount=type=tmpfs,target=/a --mount=type=tmpfs,target=/b x").size() == 2);
}

TEST_CASE("--mount options are normalised")
{
  Mount m = mount_of("type=bind,src=/a,dst=/b,rw");
  CHECK(m.get("type") == "bind");
  CHECK(m.get("source") == "/a");
  CHECK(m.get("target") == "/b");
  CHECK(m.get("readonly") == "false");
  CHECK(mount_of("target=/x").get("type") == "bind");
  CHECK(mount_of("\"type=cache\",\"target=/a,b\"").get("target") == "/a,b");
  CHECK(mount_of("type=ssh").get("type") == "ssh");
}

TEST_CASE("bad --mount values are refused")
{
  CHECK_THROWS_AS(mount_of("type=nfs,target=/a"), ParseError);
  CHECK_THROWS_AS(mount_of("type=cache"), ParseError);
  CHECK_THROWS_AS(mount_of("type=cache,target=/a,sharing=maybe"), ParseError);
  CHECK_THROWS_AS(mount_of("type=cache,target=/a,colour=blue"), ParseError);
}

TEST_CASE("HEALTHCHECK durations follow Go's syntax and the 1ms floor")
{
  CHECK(valid_healthcheck_duration("30s"));
  CHECK(valid_healthcheck_duration("1m30s"));
  CHECK(valid_healthcheck_duration("1.5h"));
  CHECK(valid_healthcheck_duration("0"));
  CHECK(valid_healthcheck_duration("0s"));
  CHECK(!valid_healthcheck_duration("5"));
  CHECK(!valid_healthcheck_duration("500us"));
  CHECK(!valid_healthcheck_duration("10x"));
  CHECK(!valid_healthcheck_duration(""));
}
