#pragma once

// JSON parsing for signed documents: one value, no duplicate keys anywhere
// (containers/image refuses them; a duplicate would let two readers see
// two different claims in the same signed bytes).

#include "base/result.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace kiln::signer {

Result<nlohmann::json> parse_strict_json(std::string_view text);
// text as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);
// Fails naming the first key of object that is not in allowed, or a missing required one.
Result<void> check_keys(const nlohmann::json& object, std::string_view where,
                        std::initializer_list<std::string_view> required,
                        std::initializer_list<std::string_view> optional = {});

} // namespace kiln::signer
