#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

std::vector<std::string_view> split(std::string_view text, char separator);
bool starts_with(std::string_view text, std::string_view prefix);
std::string to_lower(std::string_view text);
std::string hex_encode(std::span<const unsigned char> bytes);
// RFC 4648 standard alphabet with padding; decoding skips CR and LF.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// Parses a whole decimal string into an unsigned 64-bit value.
std::optional<uint64_t> parse_u64(std::string_view text);
// Human-readable size: "1.5 MiB".
std::string human_size(uint64_t bytes);
// RFC 3339 UTC time ("2024-01-01T00:00:00Z") for unix seconds.
std::string rfc3339_utc(int64_t unix_seconds);

} // namespace kiln
