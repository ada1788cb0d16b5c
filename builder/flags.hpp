#pragma once

#include <cstdint>
#include <optional>

// The --flags each instruction accepts, as in the Dockerfile reference, and
// their checking: unknown flags, missing values, duplicates, booleans.

#include "builder/instruction.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

enum class FlagType { string, boolean, list };

struct FlagSpec
{
  std::string_view name;
  FlagType type;
};

std::span<const FlagSpec> flag_specs(std::string_view keyword_lower);
bool is_boolean_flag(std::string_view keyword_lower, std::string_view name);

struct RawFlag
{
  std::string name;
  std::string value; // unexpanded; "true"/"false" for booleans
  FlagType type = FlagType::string;
  size_t offset = 0; // in the logical line
};

// Throws ParseError at the offending flag.
std::vector<RawFlag> check_flags(const LogicalLine& line, const Head& head, const ParseContext& context);

// Go's time.ParseDuration syntax ("30s", "1m30s", "500ms") in nanoseconds.
std::optional<int64_t> parse_go_duration(std::string_view text);
// A HEALTHCHECK duration: Go's time.ParseDuration syntax, zero or at least 1ms.
bool valid_healthcheck_duration(std::string_view text);

// A RUN --mount value (CSV of key=value), already expanded.
Mount parse_mount(std::string_view value, SourcePos pos, const ParseContext& context);

} // namespace kiln::builder
