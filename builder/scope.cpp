#include "builder/scope.hpp"

#include "base/strings.hpp"

#include <fmt/core.h>

namespace kiln::builder {

Result<Platform> Platform::parse(std::string_view text)
{
  auto parts = split(text, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return fail(fmt::format("parse platform \"{}\": expected OS/ARCH[/VARIANT]", text));
  }
  Platform p;
  p.os = to_lower(parts[0]);
  p.arch = to_lower(parts[1]);
  p.variant = parts.size() == 3 ? to_lower(parts[2]) : std::string();
  return p;
}

std::string Platform::str() const
{
  return variant.empty() ? fmt::format("{}/{}", os, arch) : fmt::format("{}/{}/{}", os, arch, variant);
}

EnvList automatic_platform_args(const Platform& target, const Platform& build)
{
  return {
      {"TARGETPLATFORM", target.str()},  {"TARGETOS", target.os},         {"TARGETARCH", target.arch},
      {"TARGETVARIANT", target.variant}, {"BUILDPLATFORM", build.str()},  {"BUILDOS", build.os},
      {"BUILDARCH", build.arch},         {"BUILDVARIANT", build.variant},
  };
}

bool is_proxy_arg(std::string_view name)
{
  static constexpr std::string_view k_names[] = {
      "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
      "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
  };
  for (auto n : k_names) {
    if (n == name) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> Scope::lookup(std::string_view name) const
{
  for (const auto& [k, v] : m_env) {
    if (k == name) {
      return v;
    }
  }
  for (const auto& arg : m_args) {
    if (arg.key == name) {
      return arg.value;
    }
  }
  return std::nullopt;
}

void Scope::set_env(const std::string& key, const std::string& value)
{
  for (auto& [k, v] : m_env) {
    if (k == key) {
      v = value;
      return;
    }
  }
  m_env.emplace_back(key, value);
}

void Scope::set_arg(const std::string& key, std::optional<std::string> value)
{
  for (auto& arg : m_args) {
    if (arg.key == key) {
      arg.value = std::move(value);
      return;
    }
  }
  m_args.push_back(KeyValue{key, std::move(value)});
}

} // namespace kiln::builder
