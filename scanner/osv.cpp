#include "scanner/osv.hpp"

#include "scanner/version_pep440.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace kiln::scanner {

using nlohmann::json;

Ecosystem classify_ecosystem(std::string_view ecosystem)
{
  if (ecosystem == "PyPI") {
    return Ecosystem::pypi;
  }
  if (ecosystem == "npm") {
    return Ecosystem::npm;
  }
  if (ecosystem == "Debian" || ecosystem.starts_with("Debian:")) {
    return Ecosystem::debian;
  }
  return Ecosystem::unsupported;
}

std::string normalise_name(Ecosystem ecosystem, std::string_view name)
{
  if (ecosystem == Ecosystem::pypi) {
    return pep503_name(name);
  }
  return std::string(name);
}

namespace {

// Thrown inside the parser and turned into a Result at its edge, so each
// check stays one line.
struct Malformed
{
  std::string what;
};

const json* member(const json& object, const char* key)
{
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_at(const json& object, const char* key, const std::string& where)
{
  const json* value = member(object, key);
  if (!value) {
    return {};
  }
  if (!value->is_string()) {
    throw Malformed{fmt::format("{}.{} is not a string", where, key)};
  }
  return value->get<std::string>();
}

const json* array_at(const json& object, const char* key, const std::string& where)
{
  const json* value = member(object, key);
  if (value && !value->is_array()) {
    throw Malformed{fmt::format("{}.{} is not an array", where, key)};
  }
  return value;
}

std::vector<std::string> strings_at(const json& object, const char* key, const std::string& where)
{
  std::vector<std::string> out;
  if (const json* list = array_at(object, key, where)) {
    out.reserve(list->size());
    for (const auto& item : *list) {
      if (!item.is_string()) {
        throw Malformed{fmt::format("{}.{} holds a non-string", where, key)};
      }
      out.push_back(item.get<std::string>());
    }
  }
  return out;
}

std::vector<SeverityScore> severity_at(const json& object, const std::string& where)
{
  std::vector<SeverityScore> out;
  if (const json* list = array_at(object, "severity", where)) {
    for (const auto& item : *list) {
      if (!item.is_object()) {
        throw Malformed{where + ".severity holds a non-object"};
      }
      out.push_back(
          {string_at(item, "type", where + ".severity"), string_at(item, "score", where + ".severity")});
    }
  }
  return out;
}

Range parse_range(const json& r, const std::string& where)
{
  if (!r.is_object()) {
    throw Malformed{where + " is not an object"};
  }
  Range range;
  std::string type = string_at(r, "type", where);
  range.type = type == "ECOSYSTEM" ? RangeType::ecosystem
               : type == "SEMVER"  ? RangeType::semver
               : type == "GIT"     ? RangeType::git
                                   : RangeType::other;
  if (range.type == RangeType::git || range.type == RangeType::other) {
    return range; // commit hashes are never compared in an image scan
  }
  const json* events = array_at(r, "events", where);
  if (!events || events->empty()) {
    throw Malformed{where + ".events is missing or empty"};
  }
  for (const auto& e : *events) {
    if (!e.is_object() || e.size() != 1) {
      throw Malformed{where + ".events holds an event without exactly one key"};
    }
    auto first = e.begin();
    const std::string& key = first.key();
    const json& value = first.value();
    if (!value.is_string()) {
      throw Malformed{fmt::format("{}.events: \"{}\" is not a string", where, key)};
    }
    EventKind kind;
    if (key == "introduced") {
      kind = EventKind::introduced;
    } else if (key == "fixed") {
      kind = EventKind::fixed;
    } else if (key == "last_affected") {
      kind = EventKind::last_affected;
    } else if (key == "limit") {
      kind = EventKind::limit;
    } else {
      throw Malformed{fmt::format("{}.events: unknown event \"{}\"", where, key)};
    }
    range.events.push_back({kind, value.get<std::string>()});
  }
  return range;
}

Affected parse_affected(const json& a, const std::string& where)
{
  if (!a.is_object()) {
    throw Malformed{where + " is not an object"};
  }
  Affected affected;
  if (const json* package = member(a, "package")) {
    if (!package->is_object()) {
      throw Malformed{where + ".package is not an object"};
    }
    affected.ecosystem = string_at(*package, "ecosystem", where + ".package");
    affected.name = string_at(*package, "name", where + ".package");
  }
  affected.versions = strings_at(a, "versions", where);
  if (const json* ranges = array_at(a, "ranges", where)) {
    for (size_t i = 0; i < ranges->size(); ++i) {
      affected.ranges.push_back(parse_range((*ranges)[i], fmt::format("{}.ranges[{}]", where, i)));
    }
  }
  affected.severity = severity_at(a, where);
  if (const json* specific = member(a, "ecosystem_specific"); specific && specific->is_object()) {
    if (const json* urgency = member(*specific, "urgency"); urgency && urgency->is_string()) {
      affected.urgency = urgency->get<std::string>();
    }
  }
  return affected;
}

Advisory parse_record(const json& record)
{
  if (!record.is_object()) {
    throw Malformed{"the record is not a JSON object"};
  }
  Advisory adv;
  adv.id = string_at(record, "id", "record");
  if (adv.id.empty()) {
    throw Malformed{"the record has no id"};
  }
  adv.modified = string_at(record, "modified", "record");
  adv.published = string_at(record, "published", "record");
  adv.withdrawn = member(record, "withdrawn") != nullptr;
  adv.aliases = strings_at(record, "aliases", "record");
  adv.summary = string_at(record, "summary", "record");
  adv.details = string_at(record, "details", "record");
  adv.severity = severity_at(record, "record");
  if (const json* specific = member(record, "database_specific"); specific && specific->is_object()) {
    if (const json* severity = member(*specific, "severity"); severity && severity->is_string()) {
      adv.database_severity = severity->get<std::string>();
    }
  }
  if (const json* affected = array_at(record, "affected", "record")) {
    for (size_t i = 0; i < affected->size(); ++i) {
      adv.affected.push_back(parse_affected((*affected)[i], fmt::format("affected[{}]", i)));
    }
  }
  if (const json* refs = array_at(record, "references", "record")) {
    for (const auto& ref : *refs) {
      if (ref.is_object()) {
        adv.references.push_back({string_at(ref, "type", "references"), string_at(ref, "url", "references")});
      }
    }
  }
  return adv;
}

json severity_json(const std::vector<SeverityScore>& severity)
{
  json out = json::array();
  for (const auto& s : severity) {
    out.push_back({{"type", s.type}, {"score", s.score}});
  }
  return out;
}

const char* event_key(EventKind kind)
{
  switch (kind) {
  case EventKind::introduced:
    return "introduced";
  case EventKind::fixed:
    return "fixed";
  case EventKind::last_affected:
    return "last_affected";
  case EventKind::limit:
    return "limit";
  }
  return "";
}

} // namespace

Result<Advisory> parse_osv(const json& record)
{
  try {
    return parse_record(record);
  } catch (const Malformed& m) {
    std::string id;
    if (record.is_object()) {
      if (auto it = record.find("id"); it != record.end() && it->is_string()) {
        id = it->get<std::string>();
      }
    }
    return fail(id.empty() ? m.what : fmt::format("{}: {}", id, m.what));
  }
}

json to_slim_json(const Advisory& adv)
{
  json out = {{"id", adv.id}};
  if (!adv.modified.empty()) {
    out["modified"] = adv.modified;
  }
  if (!adv.published.empty()) {
    out["published"] = adv.published;
  }
  if (!adv.aliases.empty()) {
    out["aliases"] = adv.aliases;
  }
  if (!adv.summary.empty()) {
    out["summary"] = adv.summary;
  }
  if (!adv.details.empty()) {
    // Cut on a UTF-8 character boundary.
    size_t n = std::min(adv.details.size(), k_details_limit);
    while (n < adv.details.size() && n > 0 && (static_cast<unsigned char>(adv.details[n]) & 0xC0) == 0x80) {
      --n;
    }
    out["details"] = adv.details.substr(0, n);
  }
  if (!adv.severity.empty()) {
    out["severity"] = severity_json(adv.severity);
  }
  if (!adv.database_severity.empty()) {
    out["database_specific"] = {{"severity", adv.database_severity}};
  }
  json affected = json::array();
  for (const auto& a : adv.affected) {
    if (classify_ecosystem(a.ecosystem) == Ecosystem::unsupported) {
      continue;
    }
    json entry = {{"package", {{"ecosystem", a.ecosystem}, {"name", a.name}}}};
    if (!a.versions.empty()) {
      entry["versions"] = a.versions;
    }
    json ranges = json::array();
    for (const auto& r : a.ranges) {
      if (r.type != RangeType::ecosystem && r.type != RangeType::semver) {
        continue;
      }
      json events = json::array();
      for (const auto& e : r.events) {
        events.push_back({{event_key(e.kind), e.value}});
      }
      ranges.push_back({{"type", r.type == RangeType::semver ? "SEMVER" : "ECOSYSTEM"}, {"events", events}});
    }
    if (!ranges.empty()) {
      entry["ranges"] = ranges;
    }
    if (!a.severity.empty()) {
      entry["severity"] = severity_json(a.severity);
    }
    if (!a.urgency.empty()) {
      entry["ecosystem_specific"] = {{"urgency", a.urgency}};
    }
    affected.push_back(entry);
  }
  out["affected"] = affected;
  json refs = json::array();
  for (const auto& r : adv.references) {
    // The advisory page and fix links are what a report shows; keep a few.
    if (refs.size() < 8) {
      refs.push_back({{"type", r.type}, {"url", r.url}});
    }
  }
  if (!refs.empty()) {
    out["references"] = refs;
  }
  return out;
}

} // namespace kiln::scanner
