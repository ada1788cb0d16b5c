#include "builder/idmap.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace kiln::builder;

TEST_CASE("parse_subordinate_ids takes the user's lines by name or uid, in order")
{
  const char* text = "alice:100000:65536\n"
                     "bob:165536:65536\n"
                     "1000:300000:10\n"
                     "alice:bad:1\n"
                     "alice:400000:0\n"
                     "# comment\n";
  auto ranges = parse_subordinate_ids(text, "alice", 1000);
  REQUIRE(ranges.size() == 2);
  CHECK(ranges[0].start == 100000);
  CHECK(ranges[0].count == 65536);
  CHECK(ranges[1].start == 300000);
  CHECK(parse_subordinate_ids(text, "carol", 1002).empty());
}

TEST_CASE("an unprivileged user with a range maps root to itself and the rest to the range")
{
  IdMapInputs in{1000, 1000, "alice", {{100000, 65536}}, {{200000, 65536}}, true};
  IdMap map = make_id_map(in);
  CHECK(map.warning.empty());
  CHECK_FALSE(map.single_id());
  CHECK(map.uids.source == IdMapSource::subordinate);
  CHECK(map.uids.size() == k_container_id_count);
  CHECK(map.uids.to_host(0) == 1000u);
  CHECK(map.uids.to_host(1) == 100000u);
  CHECK(map.uids.to_host(1000) == 100999u);
  CHECK(map.gids.to_host(1000) == 200999u);
  CHECK_FALSE(map.uids.to_host(65536));
  // Back from host ids, as the layer writer needs.
  CHECK(map.uids.to_container(100999) == 1000u);
  CHECK(map.uids.to_container(1000) == 0u);
  CHECK_FALSE(map.uids.to_container(0));
  CHECK(map.uids.proc_text() == "0 1000 1\n1 100000 65535\n");
}

TEST_CASE("ranges spread over several subordinate lines stop at 65536 ids")
{
  IdMapInputs in{1000, 1000, "alice", {{100000, 10}, {500000, 100000}}, {{100000, 65536}}, true};
  IdMap map = make_id_map(in);
  REQUIRE(map.uids.ranges.size() == 3);
  CHECK(map.uids.to_host(10) == 100009u);
  CHECK(map.uids.to_host(11) == 500000u);
  CHECK(map.uids.size() == 65536);
}

TEST_CASE("without a range only root is mapped, with a warning naming what fails")
{
  IdMap map = make_id_map({1002, 1002, "nosub", {}, {}, true});
  CHECK(map.single_id());
  CHECK(map.uids.proc_text() == "0 1002 1\n");
  CHECK(map.warning.find("nosub has no range in /etc/subuid and /etc/subgid") != std::string::npos);
  CHECK(map.warning.find("chown") != std::string::npos);
  CHECK(map.warning.find("apt") != std::string::npos);
  CHECK(map.warning.find('\n') == std::string::npos);
}

TEST_CASE("a range without newuidmap falls back to a single id and says why")
{
  IdMap map = make_id_map({1000, 1000, "alice", {{100000, 65536}}, {{100000, 65536}}, false});
  CHECK(map.single_id());
  CHECK(map.warning.find("uidmap") != std::string::npos);
}

TEST_CASE("root never maps container root to host root")
{
  IdMap fixed = make_id_map({0, 0, "root", {}, {}, false});
  CHECK(fixed.uids.source == IdMapSource::root_fixed);
  CHECK(fixed.uids.to_host(0) == k_root_fixed_host_base);
  CHECK(fixed.gids.to_host(65535) == k_root_fixed_host_base + 65535);
  CHECK(fixed.warning.empty());
  CHECK_FALSE(fixed.uids.to_container(0));

  IdMap sub = make_id_map({0, 0, "root", {{1000000, 65536}}, {{2000000, 65536}}, false});
  CHECK(sub.uids.source == IdMapSource::root_subordinate);
  CHECK(sub.uids.to_host(0) == 1000000u);
  CHECK(sub.gids.to_host(5) == 2000005u);
}

TEST_CASE("run_in_user_namespace runs as container root with the current user's map")
{
  IdMap map = current_id_map();
  auto rc = run_in_user_namespace(map, [] { return (::geteuid() == 0 && ::getegid() == 0) ? 7 : 1; });
  if (!rc) {
    MESSAGE("skipped: user namespaces unavailable here: " << rc.error());
    return;
  }
  CHECK(*rc == 7);
}

TEST_CASE("kiln's own work shares one user namespace per map; a sandbox gets a fresh one")
{
  IdMap map = current_id_map();
  // Each child returns its user namespace's inode number, folded to an exit status.
  auto ns_of_child = [] {
    struct stat st;
    return ::stat("/proc/self/ns/user", &st) == 0 ? static_cast<int>(st.st_ino % 200) + 1 : 0;
  };
  auto first = run_in_user_namespace(map, ns_of_child);
  if (!first) {
    MESSAGE("skipped: user namespaces unavailable here: " << first.error());
    return;
  }
  auto second = run_in_user_namespace(map, ns_of_child);
  REQUIRE(second.has_value());
  CHECK(*first != 0);
  CHECK(*second == *first);
  struct stat own;
  REQUIRE(::stat("/proc/self/ns/user", &own) == 0);
  CHECK(*first != static_cast<int>(own.st_ino % 200) + 1);
  // Fresh: a namespace of its own, so not the shared one (up to the fold:
  // inode numbers of namespaces made one after another are consecutive).
  auto fresh = spawn_in_user_namespace(map, ns_of_child, UserNamespace::fresh);
  REQUIRE(fresh.has_value());
  int status = 0;
  REQUIRE(::waitpid(*fresh, &status, 0) == *fresh);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) != *first);
}
