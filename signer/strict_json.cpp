#include "signer/strict_json.hpp"

#include <fmt/core.h>
#include <set>
#include <string>
#include <vector>

namespace kiln::signer {

namespace {

// Watches the SAX stream only for duplicate keys; the DOM is built by a
// second, ordinary parse (signed documents are small).
class DuplicateFinder : public nlohmann::json_sax<nlohmann::json>
{
public:
  std::string duplicate;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override
  {
    m_keys.emplace_back();
    return true;
  }
  bool key(string_t& key) override
  {
    if (!m_keys.back().insert(key).second) {
      duplicate = key;
      return false;
    }
    return true;
  }
  bool end_object() override
  {
    m_keys.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override
  {
    return false;
  }

private:
  std::vector<std::set<std::string>> m_keys;
};

} // namespace

Result<nlohmann::json> parse_strict_json(std::string_view text)
{
  DuplicateFinder finder;
  if (!nlohmann::json::sax_parse(text, &finder)) {
    if (!finder.duplicate.empty()) {
      return fail(fmt::format("duplicate JSON key \"{}\"", finder.duplicate));
    }
    return fail("not valid JSON");
  }
  return nlohmann::json::parse(text);
}

std::string json_quote(std::string_view text)
{
  return nlohmann::json(std::string(text)).dump();
}

Result<void> check_keys(const nlohmann::json& object, std::string_view where,
                        std::initializer_list<std::string_view> required,
                        std::initializer_list<std::string_view> optional)
{
  if (!object.is_object()) {
    return fail(fmt::format("{} is not a JSON object", where));
  }
  for (std::string_view key : required) {
    if (!object.contains(key)) {
      return fail(fmt::format("{} lacks \"{}\"", where, key));
    }
  }
  for (const auto& [key, value] : object.items()) {
    bool known = std::find(required.begin(), required.end(), key) != required.end() ||
                 std::find(optional.begin(), optional.end(), key) != optional.end();
    if (!known) {
      return fail(fmt::format("{} has unknown key \"{}\"", where, key));
    }
  }
  return {};
}

} // namespace kiln::signer
