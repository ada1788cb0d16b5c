#include "builder/flags.hpp"

#include "base/strings.hpp"

#include <cstdlib>
#include <fmt/core.h>

namespace kiln::builder {

namespace {

constexpr FlagSpec k_from[] = {{"platform", FlagType::string}};
constexpr FlagSpec k_run[] = {
    {"mount", FlagType::list}, {"network", FlagType::string}, {"security", FlagType::string}};
constexpr FlagSpec k_copy[] = {{"from", FlagType::string},     {"chown", FlagType::string},
                               {"chmod", FlagType::string},    {"link", FlagType::boolean},
                               {"parents", FlagType::boolean}, {"exclude", FlagType::list}};
constexpr FlagSpec k_add[] = {{"chown", FlagType::string},    {"chmod", FlagType::string},
                              {"link", FlagType::boolean},    {"keep-git-dir", FlagType::boolean},
                              {"checksum", FlagType::string}, {"exclude", FlagType::list},
                              {"unpack", FlagType::boolean}};
constexpr FlagSpec k_healthcheck[] = {{"interval", FlagType::string},
                                      {"timeout", FlagType::string},
                                      {"start-period", FlagType::string},
                                      {"start-interval", FlagType::string},
                                      {"retries", FlagType::string}};

// Go's strconv.ParseBool, which Docker's flag parser uses.
std::optional<bool> parse_go_bool(std::string_view v)
{
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") {
    return true;
  }
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") {
    return false;
  }
  return std::nullopt;
}

} // namespace

std::span<const FlagSpec> flag_specs(std::string_view keyword)
{
  if (keyword == "from") {
    return k_from;
  }
  if (keyword == "run") {
    return k_run;
  }
  if (keyword == "copy") {
    return k_copy;
  }
  if (keyword == "add") {
    return k_add;
  }
  if (keyword == "healthcheck") {
    return k_healthcheck;
  }
  return {};
}

bool is_boolean_flag(std::string_view keyword, std::string_view name)
{
  for (const auto& spec : flag_specs(keyword)) {
    if (spec.name == name) {
      return spec.type == FlagType::boolean;
    }
  }
  return false;
}

std::vector<RawFlag> check_flags(const LogicalLine& line, const Head& head, const ParseContext& context)
{
  std::vector<RawFlag> out;
  std::string upper = head.keyword;
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  for (const auto& piece : head.flags) {
    SourcePos pos = line.at(piece.offset);
    std::string_view text = piece.text;
    size_t eq = text.find('=');
    std::string name(text.substr(0, eq));
    const FlagSpec* spec = nullptr;
    for (const auto& s : flag_specs(head.keyword)) {
      if (s.name == name) {
        spec = &s;
      }
    }
    if (spec == nullptr) {
      context.error(pos, fmt::format("unknown flag --{} for {}", name, upper), "--" + piece.text);
    }
    RawFlag flag{name, {}, spec->type, piece.offset};
    if (spec->type == FlagType::boolean) {
      if (eq == std::string_view::npos) {
        flag.value = "true";
      } else {
        auto b = parse_go_bool(text.substr(eq + 1));
        if (!b) {
          context.error(pos, fmt::format("expecting boolean value for flag --{}", name), "--" + piece.text);
        }
        flag.value = *b ? "true" : "false";
      }
    } else {
      if (eq == std::string_view::npos) {
        context.error(pos, fmt::format("missing a value on flag --{}", name), "--" + piece.text);
      }
      flag.value = std::string(text.substr(eq + 1));
    }
    if (spec->type != FlagType::list) {
      for (const auto& seen : out) {
        if (seen.name == name) {
          context.error(pos, fmt::format("duplicate flag specified: --{}", name), "--" + piece.text);
        }
      }
    }
    out.push_back(std::move(flag));
  }
  return out;
}

Mount parse_mount(std::string_view value, SourcePos pos, const ParseContext& context)
{
  // Fields are comma-separated and may be double-quoted, as in Go's
  // encoding/csv which BuildKit reads them with.
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted) {
      if (c == '"' && i + 1 < value.size() && value[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) {
    context.error(pos, "unterminated quote in --mount", value);
  }
  fields.push_back(std::move(field));

  Mount mount;
  std::string type = "bind";
  auto set = [&](const std::string& key, std::string v) {
    for (auto& [k, existing] : mount.options) {
      if (k == key) {
        existing = std::move(v);
        return;
      }
    }
    mount.options.emplace_back(key, std::move(v));
  };
  for (const auto& f : fields) {
    std::string_view item = trim_blanks(f);
    if (item.empty()) {
      continue;
    }
    size_t eq = item.find('=');
    std::string key = to_lower(item.substr(0, eq));
    std::string v = eq == std::string_view::npos ? std::string() : std::string(item.substr(eq + 1));
    bool has_value = eq != std::string_view::npos;
    if (key == "type") {
      if (v != "bind" && v != "cache" && v != "tmpfs" && v != "secret" && v != "ssh") {
        context.error(pos, fmt::format("unsupported mount type \"{}\"", v), value);
      }
      type = v;
    } else if (key == "target" || key == "dst" || key == "destination") {
      set("target", v);
    } else if (key == "source" || key == "src") {
      set("source", v);
    } else if (key == "readonly" || key == "ro" || key == "rw" || key == "readwrite") {
      bool ro = key == "readonly" || key == "ro";
      if (has_value) {
        auto b = parse_go_bool(v);
        if (!b) {
          context.error(pos, fmt::format("invalid value for {} in --mount: \"{}\"", key, v), value);
        }
        ro = ro == *b;
      }
      set("readonly", ro ? "true" : "false");
    } else if (key == "from" || key == "id" || key == "uid" || key == "gid" || key == "mode" ||
               key == "size" || key == "env") {
      if (!has_value) {
        context.error(pos, fmt::format("--mount option {} needs a value", key), value);
      }
      set(key, v);
    } else if (key == "sharing") {
      if (v != "shared" && v != "private" && v != "locked") {
        context.error(pos, fmt::format("unsupported sharing value \"{}\" in --mount", v), value);
      }
      set(key, v);
    } else if (key == "required") {
      auto b = has_value ? parse_go_bool(v) : std::optional<bool>(true);
      if (!b) {
        context.error(pos, fmt::format("invalid value for required in --mount: \"{}\"", v), value);
      }
      set(key, *b ? "true" : "false");
    } else {
      context.error(pos, fmt::format("unexpected key '{}' in --mount", key), value);
    }
  }
  if (!mount.get("target") && (type == "bind" || type == "cache" || type == "tmpfs")) {
    context.error(pos, fmt::format("--mount type={} needs a target", type), value);
  }
  mount.options.insert(mount.options.begin(), {"type", type});
  return mount;
}

// Go's time.ParseDuration for the positive durations HEALTHCHECK takes:
// "0" or a sequence of DECIMAL UNIT, units ns us µs ms s m h.
std::optional<int64_t> parse_go_duration(std::string_view s)
{
  if (s == "0") {
    return 0;
  }
  if (s.empty()) {
    return std::nullopt;
  }
  double total_ns = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
      ++i;
    }
    if (i == start) {
      return std::nullopt;
    }
    double number = std::strtod(std::string(s.substr(start, i - start)).c_str(), nullptr);
    size_t unit_start = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
      ++i;
    }
    std::string_view unit = s.substr(unit_start, i - unit_start);
    double scale = unit == "ns"                          ? 1
                   : unit == "us" || unit == "\xC2\xB5s" ? 1e3
                   : unit == "ms"                        ? 1e6
                   : unit == "s"                         ? 1e9
                   : unit == "m"                         ? 60e9
                   : unit == "h"                         ? 3600e9
                                                         : 0;
    if (scale == 0) {
      return std::nullopt;
    }
    total_ns += number * scale;
  }
  return static_cast<int64_t>(total_ns);
}

// Zero or at least 1ms, as Docker requires of HEALTHCHECK durations.
bool valid_healthcheck_duration(std::string_view text)
{
  auto ns = parse_go_duration(text);
  return ns && (*ns == 0 || *ns >= 1000000);
}

} // namespace kiln::builder
