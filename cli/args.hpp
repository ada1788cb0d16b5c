#pragma once

// A small command-line parser: "--name value", "--name=value", "-n value",
// repeatable options, flags, positionals, and "--" to end options.

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::cli {

enum class Takes { value, none };

struct OptionSpec
{
  std::string_view name; // without the leading "--"
  Takes takes = Takes::value;
  char short_name = 0;
};

class Args
{
public:
  // Throws kiln::Error naming the command and the unknown or incomplete option.
  Args(std::string_view command, std::span<const std::string> argv, std::initializer_list<OptionSpec> specs);

  bool has(std::string_view name) const;
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
  const std::vector<std::string>& positional() const { return m_positional; }
  // Arguments after "--", kept apart (for `kiln run REF -- CMD...`).
  const std::vector<std::string>& rest() const { return m_rest; }
  bool help() const { return m_help; }

  // Throws unless the number of positionals is within [min, max].
  void expect_positional(size_t min, size_t max, std::string_view usage) const;

private:
  std::string m_command;
  std::map<std::string, std::vector<std::string>, std::less<>> m_values;
  std::vector<std::string> m_positional;
  std::vector<std::string> m_rest;
  bool m_help = false;
};

} // namespace kiln::cli
