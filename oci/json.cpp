#include "oci/json.hpp"

#include <fmt/core.h>

namespace kiln::oci {

Result<Json> parse_json(std::string_view bytes, std::string_view what)
{
  try {
    return Json::parse(bytes);
  } catch (const Json::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] ".
    std::string message = e.what();
    size_t pos = message.find("] ");
    return fail(fmt::format("parse {}: invalid JSON: {}", what,
                            pos == std::string::npos ? message : message.substr(pos + 2)));
  }
}

std::string dump_json(const Json& value)
{
  return value.dump(-1, ' ', false, Json::error_handler_t::strict);
}

Json take(Json& object, std::string_view key)
{
  auto it = object.find(key);
  if (it == object.end()) {
    return nullptr;
  }
  Json value = std::move(*it);
  object.erase(it);
  return value;
}

std::string take_string(Json& object, std::string_view key, std::string_view where, bool required)
{
  Json value = take(object, key);
  if (value.is_null()) {
    if (required) {
      throw JsonShapeError(fmt::format("{}{}{} is missing", where, where.empty() ? "" : ".", key));
    }
    return {};
  }
  if (!value.is_string()) {
    throw JsonShapeError(fmt::format("{}{}{} must be a string", where, where.empty() ? "" : ".", key));
  }
  return value.get<std::string>();
}

std::map<std::string, std::string> take_string_map(Json& object, std::string_view key, std::string_view where)
{
  std::map<std::string, std::string> map;
  Json value = take(object, key);
  if (value.is_null()) {
    return map;
  }
  if (!value.is_object()) {
    throw JsonShapeError(fmt::format("{}.{} must be an object", where, key));
  }
  for (auto& [k, v] : value.items()) {
    if (!v.is_string()) {
      throw JsonShapeError(fmt::format("{}.{}.{} must be a string", where, key, k));
    }
    map[k] = v.get<std::string>();
  }
  return map;
}

void put_string_map(Json& object, std::string_view key, const std::map<std::string, std::string>& map)
{
  if (map.empty()) {
    return;
  }
  Json value = Json::object();
  for (const auto& [k, v] : map) {
    value[k] = v;
  }
  object[std::string(key)] = std::move(value);
}

} // namespace kiln::oci
