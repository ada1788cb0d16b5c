#include "builder/userdb.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

namespace {

const char* k_passwd = "root:x:0:0:root:/root:/bin/sh\n"
                       "app:x:1000:1001:App:/home/app:/bin/sh\n"
                       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const char* k_group = "root:x:0:\n"
                      "app:x:1001:\n"
                      "audio:x:29:app,other\n"
                      "staff:x:50:other\n";

} // namespace

TEST_CASE("an empty spec is root")
{
  auto user = resolve_user("", k_passwd, k_group);
  REQUIRE(user);
  CHECK(user->uid == 0);
  CHECK(user->gid == 0);
  CHECK(user->home == "/root");
}

TEST_CASE("a name takes uid, gid, home and supplementary groups from the rootfs")
{
  auto user = resolve_user("app", k_passwd, k_group);
  REQUIRE(user);
  CHECK(user->uid == 1000);
  CHECK(user->gid == 1001);
  CHECK(user->home == "/home/app");
  CHECK(user->groups == std::vector<uint32_t>{29});
}

TEST_CASE("numbers need no passwd entry; an explicit group replaces the rest")
{
  auto user = resolve_user("4242:77", k_passwd, k_group);
  REQUIRE(user);
  CHECK(user->uid == 4242);
  CHECK(user->gid == 77);
  CHECK(user->home == "/");
  auto named = resolve_user("app:staff", k_passwd, k_group);
  REQUIRE(named);
  CHECK(named->gid == 50);
  CHECK(named->groups.empty());
  auto numeric_known = resolve_user("1000", k_passwd, k_group);
  REQUIRE(numeric_known);
  CHECK(numeric_known->gid == 1001);
}

TEST_CASE("unknown names fail naming the file")
{
  auto user = resolve_user("ghost", k_passwd, k_group);
  REQUIRE_FALSE(user);
  CHECK(user.error().find("ghost") != std::string::npos);
  CHECK(user.error().find("/etc/passwd") != std::string::npos);
  auto group = resolve_user("app:ghosts", k_passwd, k_group);
  REQUIRE_FALSE(group);
  CHECK(group.error().find("/etc/group") != std::string::npos);
}
