#include "signer/policy.hpp"

#include <cstdlib>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "base/fileio.hpp"
#include "oci/reference.hpp"
#include "signer/attestation.hpp"
#include "signer/statement.hpp"
#include "signer/trusted_root.hpp"

namespace kiln::signer {

namespace fs = std::filesystem;

namespace {

Result<std::string> read_relative(const fs::path& base, const std::string& name, fs::path* resolved = nullptr)
{
  fs::path path = fs::path(name).is_absolute() ? fs::path(name) : base / name;
  if (resolved != nullptr) {
    *resolved = path;
  }
  auto text = read_file(path);
  if (!text) {
    return fail(text.error());
  }
  return text;
}

std::optional<std::string> string_field(const toml::table& table, std::string_view key)
{
  if (auto value = table[key].value<std::string>()) {
    return value;
  }
  return std::nullopt;
}

Result<std::vector<std::string>> string_list(const toml::table& table, std::string_view key)
{
  std::vector<std::string> out;
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    return out;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    return fail(fmt::format("\"{}\" must be an array of strings", key));
  }
  for (const auto& item : *array) {
    auto text = item.value<std::string>();
    if (!text) {
      return fail(fmt::format("\"{}\" must be an array of strings", key));
    }
    out.push_back(*text);
  }
  return out;
}

Result<TrustRule> parse_rule(const toml::table& table, const fs::path& base)
{
  static constexpr std::string_view k_known[] = {"scope",    "require",      "keys",       "identity",
                                                 "issuer",   "trusted_root", "ca_roots",   "rekor_keys",
                                                 "hostname", "attestations", "intermediates"};
  for (const auto& [key, value] : table) {
    if (std::find(std::begin(k_known), std::end(k_known), key.str()) == std::end(k_known)) {
      return fail(fmt::format("unknown key \"{}\"", key.str()));
    }
  }
  TrustRule rule;
  auto scope = string_field(table, "scope");
  if (!scope || scope->empty()) {
    return fail("\"scope\" is missing");
  }
  rule.scope = *scope;
  if (rule.scope.starts_with("oci:")) {
    // Layout paths compare lexically, relative ones from the policy's directory.
    fs::path path = rule.scope.substr(4);
    rule.scope = "oci:" + (path.is_absolute() ? path : base / path).lexically_normal().string();
    while (rule.scope.size() > 5 && rule.scope.ends_with("/")) {
      rule.scope.pop_back();
    }
  }
  std::string require = string_field(table, "require").value_or("");
  if (require == "signed") {
    rule.require = Requirement::signed_by;
  } else if (require == "insecure-accept-anything") {
    rule.require = Requirement::insecure_accept_anything;
    return rule;
  } else if (require == "reject") {
    rule.require = Requirement::reject;
    return rule;
  } else {
    return fail(fmt::format("\"require\" is \"{}\", not signed, insecure-accept-anything or reject", require));
  }

  auto keys = string_list(table, "keys");
  if (!keys) {
    return fail(keys.error());
  }
  for (const auto& name : *keys) {
    fs::path path;
    auto text = read_relative(base, name, &path);
    if (!text) {
      return fail(text.error());
    }
    auto key = PublicKey::from_pem(*text);
    if (!key) {
      return fail(fmt::format("key \"{}\": {}", path.string(), key.error()));
    }
    rule.trust.keys.push_back(std::move(*key));
    rule.key_paths.push_back(path.string());
  }

  auto identity = string_field(table, "identity");
  auto hostname = string_field(table, "hostname");
  auto trusted_root = string_field(table, "trusted_root");
  auto ca_roots = string_field(table, "ca_roots");
  if (identity || hostname || trusted_root || ca_roots) {
    CertificateTrust certs;
    certs.identity = identity.value_or("");
    certs.hostname = hostname.value_or("");
    certs.issuer = string_field(table, "issuer").value_or("");
    if (certs.identity.empty() && certs.hostname.empty()) {
      return fail("a keyless rule needs \"identity\" (or \"hostname\")");
    }
    if (trusted_root) {
      auto text = read_relative(base, *trusted_root);
      auto root = text ? parse_trusted_root(*text) : Result<TrustedRoot>(fail(text.error()));
      if (!root) {
        return fail(root.error());
      }
      certs.roots = root->ca_certificates;
      rule.trust.rekor_keys = root->rekor_keys;
    }
    if (ca_roots) {
      auto text = read_relative(base, *ca_roots);
      auto roots = text ? Certificate::from_pem_all(*text) : Result<std::vector<Certificate>>(fail(text.error()));
      if (!roots) {
        return fail(roots.error());
      }
      certs.roots.insert(certs.roots.end(), roots->begin(), roots->end());
    }
    if (auto intermediates = string_field(table, "intermediates")) {
      auto text = read_relative(base, *intermediates);
      auto list = text ? Certificate::from_pem_all(*text) : Result<std::vector<Certificate>>(fail(text.error()));
      if (!list) {
        return fail(list.error());
      }
      certs.intermediates = *list;
    }
    if (certs.roots.empty()) {
      return fail("a keyless rule needs \"trusted_root\" or \"ca_roots\"");
    }
    rule.trust.certificates = std::move(certs);
  }
  auto rekor = string_list(table, "rekor_keys");
  if (!rekor) {
    return fail(rekor.error());
  }
  for (const auto& name : *rekor) {
    auto text = read_relative(base, name);
    auto key = text ? PublicKey::from_pem(*text) : Result<PublicKey>(fail(text.error()));
    if (!key) {
      return fail(fmt::format("Rekor key \"{}\": {}", name, key.error()));
    }
    rule.trust.rekor_keys.push_back(std::move(*key));
  }
  if (rule.trust.keys.empty() && !rule.trust.certificates) {
    return fail("require = \"signed\" needs \"keys\" or a keyless \"identity\" with a trust root");
  }
  auto attestations = string_list(table, "attestations");
  if (!attestations) {
    return fail(attestations.error());
  }
  for (const auto& type : *attestations) {
    auto uri = predicate_type_uri(type);
    if (!uri) {
      return fail(uri.error());
    }
    rule.attestations.push_back(*uri);
  }
  return rule;
}

// The reference in the form scopes are written in: "oci:/abs/dir" for
// layouts, "domain/path" for registry and local names.
struct ScopeKey
{
  std::string text;
  std::optional<std::string> docker_name; // for the signed identity check
};

Result<ScopeKey> scope_key(std::string_view reference)
{
  auto ref = oci::ImageReference::parse(reference);
  if (!ref) {
    return fail(ref.error());
  }
  switch (ref->transport) {
  case oci::Transport::oci:
    return ScopeKey{"oci:" + fs::absolute(ref->path).lexically_normal().string(), std::nullopt};
  case oci::Transport::oci_archive:
    return ScopeKey{"oci-archive:" + fs::absolute(ref->path).lexically_normal().string(), std::nullopt};
  case oci::Transport::docker_archive:
    return ScopeKey{"docker-archive:" + fs::absolute(ref->path).lexically_normal().string(), std::nullopt};
  case oci::Transport::docker:
  case oci::Transport::local:
    return ScopeKey{ref->docker->name(), ref->docker->name()};
  }
  return fail("unknown transport");
}

bool scope_matches(std::string_view scope, std::string_view key)
{
  if (scope == "*") {
    return true;
  }
  if (!key.starts_with(scope)) {
    return false;
  }
  // Whole path components only: "reg/app" must not match "reg/application".
  return key.size() == scope.size() || key[scope.size()] == '/' || scope.ends_with("/");
}

} // namespace

Result<Policy> load_policy(const fs::path& file)
{
  toml::table document;
  try {
    document = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return fail(fmt::format("policy \"{}\":{}:{}: {}", file.string(), e.source().begin.line,
                            e.source().begin.column, e.description()));
  }
  Policy policy;
  policy.file = file;
  fs::path base = fs::absolute(file).parent_path();
  const toml::node* trust = document.get("trust");
  if (trust == nullptr) {
    return policy;
  }
  const toml::array* rules = trust->as_array();
  if (rules == nullptr) {
    return fail(fmt::format("policy \"{}\": \"trust\" must be an array of tables ([[trust]])", file.string()));
  }
  size_t index = 0;
  for (const auto& node : *rules) {
    ++index;
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      return fail(fmt::format("policy \"{}\": trust entry {} is not a table", file.string(), index));
    }
    auto rule = parse_rule(*table, base);
    if (!rule) {
      return fail(fmt::format("policy \"{}\": [[trust]] {}: {}", file.string(), index, rule.error()));
    }
    policy.rules.push_back(std::move(*rule));
  }
  return policy;
}

Result<std::optional<fs::path>> find_policy(const std::optional<fs::path>& explicit_path)
{
  if (explicit_path) {
    if (!fs::exists(*explicit_path)) {
      return fail(fmt::format("policy \"{}\": no such file", explicit_path->string()));
    }
    return explicit_path;
  }
  if (const char* env = std::getenv("KILN_POLICY"); env != nullptr && *env != '\0') {
    if (!fs::exists(env)) {
      return fail(fmt::format("policy \"{}\" (from KILN_POLICY): no such file", env));
    }
    return fs::path(env);
  }
  std::vector<fs::path> candidates = {"kiln.toml"};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    candidates.push_back(fs::path(xdg) / "kiln/kiln.toml");
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    candidates.push_back(fs::path(home) / ".config/kiln/kiln.toml");
  }
  candidates.push_back("/etc/kiln/kiln.toml");
  for (const auto& path : candidates) {
    if (fs::exists(path)) {
      return std::optional<fs::path>(path);
    }
  }
  return std::optional<fs::path>();
}

Result<std::optional<Policy>> load_configured_policy(const std::optional<fs::path>& explicit_path)
{
  auto found = find_policy(explicit_path);
  if (!found) {
    return fail(found.error());
  }
  if (!*found) {
    return std::optional<Policy>();
  }
  auto policy = load_policy(**found);
  if (!policy) {
    return fail(policy.error());
  }
  return std::optional<Policy>(std::move(*policy));
}

const TrustRule* match_scope(const Policy& policy, std::string_view reference)
{
  auto key = scope_key(reference);
  if (!key) {
    return nullptr;
  }
  const TrustRule* best = nullptr;
  for (const auto& rule : policy.rules) {
    if (!scope_matches(rule.scope, key->text)) {
      continue;
    }
    if (best == nullptr || best->scope == "*" || (rule.scope != "*" && rule.scope.size() > best->scope.size())) {
      best = &rule;
    }
  }
  return best;
}

PolicyDecision check_image(const Policy& policy, std::string_view reference, const oci::Digest& digest,
                           AttachmentSource& source, int64_t now)
{
  PolicyDecision decision;
  auto key = scope_key(reference);
  if (!key) {
    decision.reason = key.error();
    return decision;
  }
  const TrustRule* rule = match_scope(policy, reference);
  if (rule == nullptr) {
    decision.reason = fmt::format("no [[trust]] scope in \"{}\" matches {}", policy.file.string(), key->text);
    return decision;
  }
  decision.scope = rule->scope;
  switch (rule->require) {
  case Requirement::reject:
    decision.reason = fmt::format("scope \"{}\" rejects every image", rule->scope);
    return decision;
  case Requirement::insecure_accept_anything:
    decision.verdict = Verdict::accepted;
    decision.reason = fmt::format("scope \"{}\" accepts anything (insecure)", rule->scope);
    return decision;
  case Requirement::signed_by:
    break;
  }
  auto signatures = load_attachments(source, digest, AttachmentKind::signatures);
  if (!signatures) {
    decision.reason = signatures.error();
    return decision;
  }
  if (signatures->empty()) {
    decision.reason = fmt::format("scope \"{}\" requires a signature and {} has none", rule->scope, digest.str());
    return decision;
  }
  SignatureClaims claims{digest, key->docker_name, IdentityMatch::repository, {}};
  VerifyReport report = verify_signatures(*signatures, rule->trust, claims, now);
  if (!report.ok()) {
    decision.reason =
      fmt::format("scope \"{}\": no signature of {} verifies: {}", rule->scope, digest.str(), report.why_rejected());
    return decision;
  }
  decision.signatures = report.accepted;
  if (!rule->attestations.empty()) {
    auto layers = load_attachments(source, digest, AttachmentKind::attestations);
    if (!layers) {
      decision.reason = layers.error();
      return decision;
    }
    for (const auto& type : rule->attestations) {
      std::string why = "none attached";
      bool found = false;
      for (const auto& layer : *layers) {
        auto verified = verify_attestation(layer, rule->trust.keys, digest, type);
        if (verified) {
          found = true;
          break;
        }
        why = verified.error();
      }
      if (!found) {
        decision.reason =
          fmt::format("scope \"{}\" requires a {} attestation of {}: {}", rule->scope, type, digest.str(), why);
        return decision;
      }
      decision.attestations.push_back(type);
    }
  }
  decision.verdict = Verdict::accepted;
  decision.reason = fmt::format("scope \"{}\": {} signed by {}", rule->scope, digest.str(),
                                decision.signatures.front().signer);
  return decision;
}

} // namespace kiln::signer
