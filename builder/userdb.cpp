#include "builder/userdb.hpp"

#include "base/strings.hpp"

#include <fmt/core.h>
#include <optional>

namespace kiln::builder {

namespace {

struct PasswdEntry
{
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

std::optional<uint32_t> parse_id(std::string_view text)
{
  auto value = parse_u64(text);
  if (!value || *value > UINT32_MAX - 1) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(*value);
}

std::optional<PasswdEntry> find_passwd(std::string_view passwd, std::string_view name,
                                       std::optional<uint32_t> uid)
{
  for (auto line : split(passwd, '\n')) {
    auto f = split(line, ':');
    if (f.size() < 7) {
      continue;
    }
    auto entry_uid = parse_id(f[2]);
    auto entry_gid = parse_id(f[3]);
    if (!entry_uid || !entry_gid) {
      continue;
    }
    if ((uid && *entry_uid == *uid) || (!uid && f[0] == name)) {
      return PasswdEntry{std::string(f[0]), *entry_uid, *entry_gid, std::string(f[5])};
    }
  }
  return std::nullopt;
}

} // namespace

Result<ResolvedUser> resolve_user(std::string_view spec, std::string_view passwd, std::string_view group)
{
  ResolvedUser user;
  if (spec.empty()) {
    spec = "0";
  }
  auto colon = spec.find(':');
  std::string_view user_part = spec.substr(0, colon);
  std::optional<std::string_view> group_part;
  if (colon != std::string_view::npos) {
    group_part = spec.substr(colon + 1);
  }
  auto numeric_uid = parse_id(user_part);
  auto entry = find_passwd(passwd, user_part, numeric_uid);
  if (numeric_uid) {
    user.uid = *numeric_uid;
  } else if (entry) {
    user.uid = entry->uid;
  } else {
    return fail(fmt::format("user \"{}\": no such user in the rootfs's /etc/passwd", user_part));
  }
  if (entry) {
    user.gid = entry->gid;
    user.home = entry->home.empty() ? "/" : entry->home;
  }
  if (group_part) {
    if (auto numeric_gid = parse_id(*group_part)) {
      user.gid = *numeric_gid;
    } else {
      bool found = false;
      for (auto line : split(group, '\n')) {
        auto f = split(line, ':');
        if (f.size() >= 3 && f[0] == *group_part) {
          if (auto gid = parse_id(f[2])) {
            user.gid = *gid;
            found = true;
            break;
          }
        }
      }
      if (!found) {
        return fail(fmt::format("group \"{}\": no such group in the rootfs's /etc/group", *group_part));
      }
    }
  }
  // Supplementary groups only when the user is known by name; an explicit
  // group replaces them, as in Docker.
  if (entry && !group_part) {
    for (auto line : split(group, '\n')) {
      auto f = split(line, ':');
      if (f.size() < 4) {
        continue;
      }
      auto gid = parse_id(f[2]);
      if (!gid || *gid == user.gid) {
        continue;
      }
      for (auto member : split(f[3], ',')) {
        if (member == entry->name) {
          user.groups.push_back(*gid);
          break;
        }
      }
    }
  }
  return user;
}

} // namespace kiln::builder
