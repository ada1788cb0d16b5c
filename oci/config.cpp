#include "oci/config.hpp"

#include <fmt/core.h>

namespace kiln::oci {

namespace {

std::optional<std::vector<std::string>> take_string_list(Json& object, std::string_view key, std::string_view where)
{
  Json value = take(object, key);
  if (value.is_null()) {
    return std::nullopt;
  }
  if (!value.is_array()) {
    throw JsonShapeError(fmt::format("{}.{} must be an array of strings", where, key));
  }
  std::vector<std::string> list;
  for (auto& item : value) {
    if (!item.is_string()) {
      throw JsonShapeError(fmt::format("{}.{} must be an array of strings", where, key));
    }
    list.push_back(item.get<std::string>());
  }
  return list;
}

// {"80/tcp": {}, ...} as Docker and OCI write sets.
std::set<std::string> take_key_set(Json& object, std::string_view key, std::string_view where)
{
  std::set<std::string> keys;
  Json value = take(object, key);
  if (value.is_null()) {
    return keys;
  }
  if (!value.is_object()) {
    throw JsonShapeError(fmt::format("{}.{} must be an object", where, key));
  }
  for (auto& [k, v] : value.items()) {
    keys.insert(k);
  }
  return keys;
}

void put_key_set(Json& object, std::string_view key, const std::set<std::string>& keys)
{
  if (keys.empty()) {
    return;
  }
  Json value = Json::object();
  for (const auto& k : keys) {
    value[k] = Json::object();
  }
  object[std::string(key)] = std::move(value);
}

ContainerConfig parse_container_config(Json value)
{
  constexpr std::string_view where = "config";
  if (!value.is_object()) {
    throw JsonShapeError("config must be an object");
  }
  ContainerConfig c;
  c.user = take_string(value, "User", where);
  c.exposed_ports = take_key_set(value, "ExposedPorts", where);
  c.env = take_string_list(value, "Env", where).value_or(std::vector<std::string>{});
  c.entrypoint = take_string_list(value, "Entrypoint", where);
  c.cmd = take_string_list(value, "Cmd", where);
  c.volumes = take_key_set(value, "Volumes", where);
  c.working_dir = take_string(value, "WorkingDir", where);
  c.labels = take_string_map(value, "Labels", where);
  c.stop_signal = take_string(value, "StopSignal", where);
  Json healthcheck = take(value, "Healthcheck");
  if (!healthcheck.is_null()) {
    c.healthcheck = std::move(healthcheck);
  }
  c.shell = take_string_list(value, "Shell", where);
  c.on_build = take_string_list(value, "OnBuild", where).value_or(std::vector<std::string>{});
  c.extra = std::move(value);
  return c;
}

Json container_config_json(const ContainerConfig& c)
{
  Json out = c.extra;
  if (!c.user.empty()) {
    out["User"] = c.user;
  }
  put_key_set(out, "ExposedPorts", c.exposed_ports);
  if (!c.env.empty()) {
    out["Env"] = c.env;
  }
  if (c.entrypoint) {
    out["Entrypoint"] = *c.entrypoint;
  }
  if (c.cmd) {
    out["Cmd"] = *c.cmd;
  }
  put_key_set(out, "Volumes", c.volumes);
  if (!c.working_dir.empty()) {
    out["WorkingDir"] = c.working_dir;
  }
  put_string_map(out, "Labels", c.labels);
  if (!c.stop_signal.empty()) {
    out["StopSignal"] = c.stop_signal;
  }
  if (c.healthcheck) {
    out["Healthcheck"] = *c.healthcheck;
  }
  if (c.shell) {
    out["Shell"] = *c.shell;
  }
  if (!c.on_build.empty()) {
    out["OnBuild"] = c.on_build;
  }
  return out;
}

} // namespace

std::optional<std::string> ContainerConfig::env_value(std::string_view key) const
{
  for (const auto& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 && entry[key.size()] == '=') {
      return entry.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

void ContainerConfig::set_env(std::string_view key, std::string_view value)
{
  std::string entry = fmt::format("{}={}", key, value);
  for (auto& existing : env) {
    if (existing.size() > key.size() && existing.compare(0, key.size(), key) == 0 && existing[key.size()] == '=') {
      existing = entry;
      return;
    }
  }
  env.push_back(entry);
}

Result<ImageConfig> ImageConfig::parse(std::string_view bytes)
{
  auto json = parse_json(bytes, "image config");
  if (!json) {
    return fail(json.error());
  }
  if (!json->is_object()) {
    return fail("parse image config: not a JSON object");
  }
  try {
    ImageConfig c;
    Json& value = *json;
    c.created = take_string(value, "created", "");
    c.author = take_string(value, "author", "");
    c.architecture = take_string(value, "architecture", "", true);
    c.os = take_string(value, "os", "", true);
    c.variant = take_string(value, "variant", "");
    c.os_version = take_string(value, "os.version", "");
    Json config = take(value, "config");
    if (!config.is_null()) {
      c.config = parse_container_config(std::move(config));
      c.has_config = true;
    }
    Json rootfs = take(value, "rootfs");
    if (!rootfs.is_object()) {
      throw JsonShapeError("rootfs is missing or not an object");
    }
    std::string type = take_string(rootfs, "type", "rootfs", true);
    if (type != "layers") {
      throw JsonShapeError(fmt::format("rootfs.type is \"{}\", expected \"layers\"", type));
    }
    Json diff_ids = take(rootfs, "diff_ids");
    if (!diff_ids.is_array()) {
      throw JsonShapeError("rootfs.diff_ids must be an array");
    }
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      auto digest = diff_ids[i].is_string() ? Digest::parse(diff_ids[i].get<std::string>())
                                            : Result<Digest>(fail("not a string"));
      if (!digest) {
        throw JsonShapeError(fmt::format("rootfs.diff_ids[{}]: {}", i, digest.error()));
      }
      c.diff_ids.push_back(*digest);
    }
    c.rootfs_extra = std::move(rootfs);
    Json history = take(value, "history");
    if (history.is_array()) {
      for (size_t i = 0; i < history.size(); ++i) {
        Json& h = history[i];
        if (!h.is_object()) {
          throw JsonShapeError(fmt::format("history[{}] must be an object", i));
        }
        std::string where = fmt::format("history[{}]", i);
        History entry;
        entry.created = take_string(h, "created", where);
        entry.created_by = take_string(h, "created_by", where);
        entry.author = take_string(h, "author", where);
        entry.comment = take_string(h, "comment", where);
        Json empty = take(h, "empty_layer");
        entry.empty_layer = empty.is_boolean() && empty.get<bool>();
        entry.extra = std::move(h);
        c.history.push_back(std::move(entry));
      }
    } else if (!history.is_null()) {
      throw JsonShapeError("history must be an array");
    }
    c.extra = std::move(value);
    return c;
  } catch (const JsonShapeError& e) {
    return fail(fmt::format("parse image config: {}", e.what()));
  } catch (const Json::exception& e) {
    return fail(fmt::format("parse image config: {}", e.what()));
  }
}

std::string ImageConfig::serialize() const
{
  Json out = extra;
  if (!created.empty()) {
    out["created"] = created;
  }
  if (!author.empty()) {
    out["author"] = author;
  }
  // The platform members are spelt as in a descriptor's platform.
  Json platform_members = platform().to_json();
  for (auto& [key, value] : platform_members.items()) {
    out[key] = value;
  }
  Json container = container_config_json(config);
  if (has_config || !container.empty()) {
    out["config"] = std::move(container);
  }
  Json rootfs = rootfs_extra;
  rootfs["type"] = "layers";
  Json ids = Json::array();
  for (const auto& id : diff_ids) {
    ids.push_back(id.str());
  }
  rootfs["diff_ids"] = std::move(ids);
  out["rootfs"] = std::move(rootfs);
  if (!history.empty()) {
    Json list = Json::array();
    for (const auto& h : history) {
      Json entry = h.extra;
      if (!h.created.empty()) {
        entry["created"] = h.created;
      }
      if (!h.created_by.empty()) {
        entry["created_by"] = h.created_by;
      }
      if (!h.author.empty()) {
        entry["author"] = h.author;
      }
      if (!h.comment.empty()) {
        entry["comment"] = h.comment;
      }
      if (h.empty_layer) {
        entry["empty_layer"] = true;
      }
      list.push_back(std::move(entry));
    }
    out["history"] = std::move(list);
  }
  return dump_json(out);
}

Platform ImageConfig::platform() const
{
  Platform p;
  p.os = os;
  p.architecture = architecture;
  p.variant = variant;
  p.os_version = os_version;
  return p;
}

} // namespace kiln::oci
