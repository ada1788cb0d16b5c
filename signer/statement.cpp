#include "signer/statement.hpp"

#include "signer/strict_json.hpp"

#include <fmt/core.h>
#include <regex>

namespace kiln::signer {

namespace {

struct PredicateType
{
  std::string_view name;
  std::string_view uri;
};

// cosign's options/predicate.go table.
constexpr PredicateType k_predicate_types[] = {
    {"custom", k_custom_predicate},
    {"vuln", k_vuln_predicate},
    {"spdx", "https://spdx.dev/Document"},
    {"spdxjson", "https://spdx.dev/Document"},
    {"cyclonedx", "https://cyclonedx.org/bom"},
    {"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
    {"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
    {"slsaprovenance1", "https://slsa.dev/provenance/v1"},
    {"link", "https://in-toto.io/Link/v1"},
    {"openvex", "https://openvex.dev/ns"},
};

bool is_absolute_uri(std::string_view text)
{
  static const std::regex k_uri("^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]+$");
  return std::regex_match(text.begin(), text.end(), k_uri);
}

} // namespace

Result<std::string> predicate_type_uri(std::string_view type)
{
  for (const auto& entry : k_predicate_types) {
    if (entry.name == type) {
      return std::string(entry.uri);
    }
  }
  if (is_absolute_uri(type)) {
    return std::string(type);
  }
  return fail(fmt::format("unknown predicate type \"{}\" (use vuln, spdxjson, cyclonedx, slsaprovenance, "
                          "slsaprovenance1, link, openvex, custom or an absolute URI)",
                          type));
}

Result<nlohmann::ordered_json> predicate_from_file(std::string_view type, std::string_view text,
                                                   std::string_view now)
{
  if (type == "custom") {
    nlohmann::ordered_json predicate;
    predicate["Data"] = std::string(text);
    predicate["Timestamp"] = std::string(now);
    return predicate;
  }
  if (type == "spdx") {
    return nlohmann::ordered_json(std::string(text));
  }
  auto predicate = nlohmann::ordered_json::parse(text, nullptr, false);
  if (predicate.is_discarded() || !predicate.is_object()) {
    return fail(fmt::format("predicate for --type {} is not a JSON object", type));
  }
  if (type == "vuln") {
    for (const char* key : {"scanStartedOn", "scanFinishedOn"}) {
      const auto* value = predicate.contains("metadata") && predicate["metadata"].is_object() &&
                                  predicate["metadata"].contains(key)
                              ? &predicate["metadata"][key]
                              : nullptr;
      if (value == nullptr || !value->is_string() || !is_rfc3339(value->get<std::string>())) {
        return fail(fmt::format("vuln predicate: metadata.{} is not an RFC 3339 time", key));
      }
    }
  }
  return predicate;
}

std::string write_statement(std::string_view subject_name, const oci::Digest& subject_digest,
                            std::string_view predicate_type, const nlohmann::ordered_json& predicate)
{
  nlohmann::ordered_json statement;
  statement["_type"] = std::string(k_statement_v1);
  nlohmann::ordered_json subject;
  subject["name"] = std::string(subject_name);
  subject["digest"][std::string(subject_digest.algorithm_name())] = subject_digest.hex();
  statement["subject"] = nlohmann::ordered_json::array({subject});
  statement["predicateType"] = std::string(predicate_type);
  statement["predicate"] = predicate;
  return statement.dump();
}

Result<Statement> parse_statement(std::string_view bytes)
{
  auto doc = parse_strict_json(bytes);
  if (!doc) {
    return fail("in-toto statement: " + doc.error());
  }
  if (auto ok = check_keys(*doc, "in-toto statement", {"_type", "subject", "predicateType"}, {"predicate"});
      !ok) {
    return fail(ok.error());
  }
  const auto& type = (*doc)["_type"];
  if (!type.is_string() || (type != k_statement_v1 && type != k_statement_v01)) {
    return fail("in-toto statement: unknown _type");
  }
  if (!(*doc)["predicateType"].is_string() || !(*doc)["subject"].is_array()) {
    return fail("in-toto statement: predicateType or subject has the wrong type");
  }
  Statement statement;
  statement.predicate_type = (*doc)["predicateType"].get<std::string>();
  for (const auto& subject : (*doc)["subject"]) {
    if (auto ok = check_keys(subject, "in-toto subject", {"digest"},
                             {"name", "uri", "content", "downloadLocation", "mediaType", "annotations"});
        !ok) {
      return fail(ok.error());
    }
    if (!subject["digest"].is_object()) {
      return fail("in-toto subject digest is not an object");
    }
    if (subject["digest"].contains("sha256") && subject["digest"]["sha256"].is_string()) {
      statement.subject_sha256.push_back(subject["digest"]["sha256"].get<std::string>());
    }
  }
  // Re-read the predicate keeping its key order, for printing.
  statement.predicate = nlohmann::ordered_json::parse(bytes)["predicate"];
  return statement;
}

bool is_rfc3339(std::string_view text)
{
  static const std::regex k_time(
      "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
      "(\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$");
  return std::regex_match(text.begin(), text.end(), k_time);
}

} // namespace kiln::signer
