#pragma once

// The image configuration (OCI image-spec v1.1 config.md, with Docker's
// Healthcheck extension). Every object keeps its unknown members in `extra`
// so that a config pulled from elsewhere is written back unchanged apart
// from what kiln edits.
//   config ::= { "created"?: RFC 3339, "author"?: string, "architecture": string,
//                "os": string, "variant"?: string, "os.version"?: string,
//                "config"?: ContainerConfig, "rootfs": { "type": "layers", "diff_ids": [digest] },
//                "history"?: [History] }

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "oci/descriptor.hpp"

namespace kiln::oci {

struct ContainerConfig
{
  std::string user;
  std::set<std::string> exposed_ports; // "8080/tcp"
  std::vector<std::string> env;        // "KEY=value", in order
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::set<std::string> volumes;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<Json> healthcheck; // Docker extension, kept as written
  std::optional<std::vector<std::string>> shell; // Docker extension (SHELL)
  std::vector<std::string> on_build;             // Docker extension (ONBUILD)
  Json extra = Json::object();

  // The value of KEY in env, if set.
  std::optional<std::string> env_value(std::string_view key) const;
  // Sets KEY=value, replacing an earlier KEY in place.
  void set_env(std::string_view key, std::string_view value);
};

struct History
{
  std::string created;
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  Json extra = Json::object();
};

struct ImageConfig
{
  std::string created;
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  std::string os_version;
  ContainerConfig config;
  bool has_config = false; // whether "config" was present (kept absent if it was)
  std::vector<Digest> diff_ids;
  std::vector<History> history;
  Json rootfs_extra = Json::object();
  Json extra = Json::object();

  static Result<ImageConfig> parse(std::string_view bytes);
  std::string serialize() const;
  Platform platform() const;
};

} // namespace kiln::oci
