#pragma once

// Resolves a USER spec ("uid[:gid]" or "name[:group]") against the text of
// a rootfs's /etc/passwd and /etc/group, as Docker does: a name must exist, a
// number need not; the group defaults to the passwd entry's, else 0; the
// supplementary groups are the /etc/group entries that list the user.

#include "base/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

struct ResolvedUser
{
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups; // supplementary, excluding gid
  std::string home = "/";
};

// passwd(5): "name:x:uid:gid:gecos:home:shell"; group(5): "name:x:gid:user,user".
Result<ResolvedUser> resolve_user(std::string_view spec, std::string_view passwd, std::string_view group);

} // namespace kiln::builder
