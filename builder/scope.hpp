#pragma once

// Variables visible to expansion, with the Dockerfile reference's scope
// rules: ENV of the stage (inherited from a parent stage or the base image)
// wins over ARG; an ARG is visible from its declaration to the end of its
// stage; ARGs before the first FROM are visible only to FROM lines unless a
// stage re-declares them; --build-arg overrides a default; the automatic
// platform args behave like build args.

#include "base/result.hpp"
#include "builder/model.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln::builder {

struct Platform
{
  std::string os = "linux";
  std::string arch = "amd64";
  std::string variant;

  static Result<Platform> parse(std::string_view text); // "os/arch[/variant]"
  std::string str() const;
};

using EnvList = std::vector<std::pair<std::string, std::string>>;

// TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and the BUILD* four.
EnvList automatic_platform_args(const Platform& target, const Platform& build);

// HTTP_PROXY, https_proxy, ... that Docker predefines without an ARG line.
bool is_proxy_arg(std::string_view name);

class Scope
{
public:
  std::optional<std::string> lookup(std::string_view name) const;

  void set_env(const std::string& key, const std::string& value);
  void set_arg(const std::string& key, std::optional<std::string> value);
  const EnvList& env() const { return m_env; }
  void set_all_env(EnvList env) { m_env = std::move(env); }

private:
  EnvList m_env;                // in order of first definition
  std::vector<KeyValue> m_args; // declared ARGs, latest value
};

} // namespace kiln::builder
