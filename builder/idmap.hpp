#pragma once

// How a sandbox's container ids map to host ids, and the processes that need
// that map: writing it for a fresh user namespace, and running code inside a
// user namespace with the same map (to read or remove an upper directory whose
// files carry subordinate host ids the invoking user cannot touch).
//
// Policy (docs/sandbox.md):
//   kiln as root       container 0..65535 -> root's /etc/subuid range when it
//                      has one, else the fixed range 0x70000000 (1879048192)
//                      + 0..65535; never host root.
//   user with a range  container 0 -> the user, 1..N -> the /etc/subuid range
//                      (through the setuid newuidmap/newgidmap of `uidmap`).
//   user without       container 0 -> the user only; a warning names what fails.

#include "base/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace kiln::builder {

// `count` consecutive container ids starting at `container` are host ids
// starting at `host`.
struct IdRange
{
  uint32_t container = 0;
  uint32_t host = 0;
  uint32_t count = 0;
};

// A subordinate range from /etc/subuid or /etc/subgid.
struct SubordinateRange
{
  uint32_t start = 0;
  uint32_t count = 0;
};

// Where a mapping came from; decides how it is written to /proc/PID/*_map.
enum class IdMapSource {
  root_subordinate, // kiln is root; root's own /etc/subuid range
  root_fixed,       // kiln is root; the fixed high range
  subordinate,      // unprivileged user with a range (newuidmap/newgidmap)
  single,           // unprivileged user without a range: one id
};

// The mapping for one kind of id (users or groups).
struct IdMapping
{
  std::vector<IdRange> ranges;
  IdMapSource source = IdMapSource::single;

  std::optional<uint32_t> to_host(uint32_t container_id) const;
  std::optional<uint32_t> to_container(uint32_t host_id) const;
  // Number of container ids mapped.
  uint64_t size() const;
  // The text written to /proc/PID/uid_map: "CONTAINER HOST COUNT" lines.
  std::string proc_text() const;
};

struct IdMap
{
  IdMapping uids;
  IdMapping gids;
  // One line naming what fails under a single-id map; empty otherwise.
  std::string warning;

  bool single_id() const { return uids.size() == 1 && gids.size() == 1; }
};

// The first host id of the fixed range used for container root when kiln runs
// as root and root has no /etc/subuid entry. systemd leaves 0x70000000 to
// 0x7FFDFFFF unassigned (its nspawn ranges end below, the foreign range starts
// above), and distributions allocate /etc/subuid ranges from 100000 upwards.
inline constexpr uint32_t k_root_fixed_host_base = 0x70000000;
// Container ids mapped when a whole range is available: 0..65535, as Docker,
// Podman and Buildah do, so images with nobody=65534 work.
inline constexpr uint32_t k_container_id_count = 65536;

// Ranges for the user named `name` with numeric id `id` in text in the
// /etc/subuid format ("NAME_OR_ID:START:COUNT" lines), in file order.
std::vector<SubordinateRange> parse_subordinate_ids(std::string_view text, std::string_view name,
                                                    uint32_t id);

struct IdMapInputs
{
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user_name;
  std::vector<SubordinateRange> subuids;
  std::vector<SubordinateRange> subgids;
  // newuidmap and newgidmap are installed (only needed when not root).
  bool have_map_helpers = false;
};

// The map for the given identity; pure, for tests.
IdMap make_id_map(const IdMapInputs& inputs);

// The map for the current process (effective ids, /etc/subuid, /etc/subgid).
IdMap current_id_map();

// Writes map for process pid, which has just created a user namespace and
// waits: directly as root or for a single id, else through newuidmap and
// newgidmap.
Result<void> apply_id_map(const IdMap& map, pid_t pid);

// fresh: a user namespace of the child's own (a RUN's sandbox). shared: one
// user namespace per map and kiln process, made on first use and joined
// with setns by each child, for kiln's own work in it (extracting layers,
// writing them, reading a stage): rootless, each fresh one costs a
// newuidmap and a newgidmap, 4 ms here, and a build made 14.
enum class UserNamespace { fresh, shared };

// Forks a child that enters a user namespace with `map` (a fresh one, after
// its map is written), becomes container root (every capability over the
// mapped ids; lstat shows container ids) and exits with fn's return value.
// Returns the child's pid once fn has started. The child dies with the
// calling thread.
Result<pid_t> spawn_in_user_namespace(const IdMap& map, const std::function<int()>& fn,
                                      UserNamespace which = UserNamespace::fresh);

// spawn_in_user_namespace in the shared namespace and wait: fn's return value.
Result<int> run_in_user_namespace(const IdMap& map, const std::function<int()>& fn);

// Removes a tree a sandbox wrote (upper, work and cache dirs whose files carry
// mapped host ids), entering the user namespace when the current user could
// not otherwise remove them.
Result<void> remove_tree(const std::filesystem::path& path, const IdMap& map);

} // namespace kiln::builder
