#pragma once

// JSON helpers shared by the image model. Parsing helpers throw
// JsonShapeError with a path-like location ("layers[2].digest"); the public
// parse functions turn that into a Result error naming the document.

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.hpp"

namespace kiln::oci {

using Json = nlohmann::json;

class JsonShapeError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

// Parses bytes into a JSON value; the error names what was being parsed.
Result<Json> parse_json(std::string_view bytes, std::string_view what);

// Deterministic compact serialisation: keys sorted, no insignificant space.
std::string dump_json(const Json& value);

// Removes key from object and returns it (null when absent).
Json take(Json& object, std::string_view key);
std::string take_string(Json& object, std::string_view key, std::string_view where, bool required = false);
std::map<std::string, std::string> take_string_map(Json& object, std::string_view key, std::string_view where);
void put_string_map(Json& object, std::string_view key, const std::map<std::string, std::string>& map);

} // namespace kiln::oci
