#include "cli/args.hpp"

#include <fmt/core.h>

#include "base/error.hpp"

namespace kiln::cli {

Args::Args(std::string_view command, std::span<const std::string> argv, std::initializer_list<OptionSpec> specs)
  : m_command(command)
{
  auto find_long = [&](std::string_view name) -> const OptionSpec* {
    for (const auto& spec : specs) {
      if (spec.name == name) {
        return &spec;
      }
    }
    return nullptr;
  };
  auto find_short = [&](char c) -> const OptionSpec* {
    for (const auto& spec : specs) {
      if (spec.short_name == c) {
        return &spec;
      }
    }
    return nullptr;
  };

  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      m_rest.assign(argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      m_help = true;
      continue;
    }
    const OptionSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (arg.size() > 2 && arg.starts_with("--")) {
      std::string_view body = std::string_view(arg).substr(2);
      size_t eq = body.find('=');
      if (eq != std::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      spec = find_long(body);
      if (spec == nullptr) {
        throw Error(fmt::format("kiln {}: unknown option --{} (see kiln {} --help)", m_command, body, m_command));
      }
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      spec = find_short(arg[1]);
      if (spec == nullptr) {
        throw Error(fmt::format("kiln {}: unknown option {} (see kiln {} --help)", m_command, arg, m_command));
      }
    } else {
      m_positional.push_back(arg);
      continue;
    }
    std::string name(spec->name);
    if (spec->takes == Takes::none) {
      if (inline_value) {
        throw Error(fmt::format("kiln {}: option --{} takes no value", m_command, name));
      }
      m_values[name].emplace_back();
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) {
        throw Error(fmt::format("kiln {}: option --{} needs a value", m_command, name));
      }
      inline_value = argv[++i];
    }
    m_values[name].push_back(*inline_value);
  }
}

bool Args::has(std::string_view name) const
{
  return m_values.find(name) != m_values.end();
}

std::optional<std::string> Args::get(std::string_view name) const
{
  auto it = m_values.find(name);
  if (it == m_values.end()) {
    return std::nullopt;
  }
  return it->second.back();
}

std::vector<std::string> Args::all(std::string_view name) const
{
  auto it = m_values.find(name);
  return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

void Args::expect_positional(size_t min, size_t max, std::string_view usage) const
{
  if (m_positional.size() < min || m_positional.size() > max) {
    throw Error(fmt::format("kiln {}: expected {} (usage: {})",
                            m_command,
                            min == max ? fmt::format("{} argument{}", min, min == 1 ? "" : "s")
                                       : fmt::format("{} to {} arguments", min, max),
                            usage));
  }
}

} // namespace kiln::cli
