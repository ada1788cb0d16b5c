#include <ctime>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "cli/signing.hpp"
#include "signer/attestation.hpp"
#include "signer/policy.hpp"
#include "signer/source.hpp"
#include "signer/statement.hpp"
#include "signer/trusted_root.hpp"
#include "signer/verify.hpp"

namespace kiln::cli {

namespace {

std::initializer_list<OptionSpec> trust_options()
{
  static const std::initializer_list<OptionSpec> k_options = {
    {"key"},           {"rekor-key"},     {"certificate-identity"}, {"certificate-oidc-issuer"},
    {"trusted-root"},  {"ca-roots"},      {"ca-intermediates"},     {"certificate-hostname"},
    {"identity"},      {"annotation", Takes::value, 'a'},           {"type"},
    {"print-predicate", Takes::none}, {"policy"}};
  return k_options;
}

std::string read_input(std::string_view command, const std::string& what, const std::string& path)
{
  auto text = read_file(path);
  if (!text) {
    throw Error(fmt::format("{}: {}: {}", command, what, text.error()));
  }
  return *text;
}

signer::PublicKey public_key(std::string_view command, const std::string& path)
{
  auto key = signer::PublicKey::from_pem(read_input(command, "key", path));
  if (!key) {
    throw Error(fmt::format("{}: key \"{}\": {}", command, path, key.error()));
  }
  return *key;
}

std::vector<signer::Certificate> certificates(std::string_view command, const std::string& path)
{
  auto certs = signer::Certificate::from_pem_all(read_input(command, "certificates", path));
  if (!certs) {
    throw Error(fmt::format("{}: \"{}\": {}", command, path, certs.error()));
  }
  return *certs;
}

signer::TrustMaterial trust_from_args(const Args& args, std::string_view command)
{
  signer::TrustMaterial trust;
  for (const auto& path : args.all("key")) {
    trust.keys.push_back(public_key(command, path));
  }
  for (const auto& path : args.all("rekor-key")) {
    trust.rekor_keys.push_back(public_key(command, path));
  }
  auto identity = args.get("certificate-identity");
  auto hostname = args.get("certificate-hostname");
  if (identity || hostname) {
    signer::CertificateTrust certs;
    certs.identity = identity.value_or("");
    certs.hostname = hostname.value_or("");
    certs.issuer = args.get("certificate-oidc-issuer").value_or("");
    if (auto path = args.get("trusted-root")) {
      auto root = signer::parse_trusted_root(read_input(command, "trusted root", *path));
      if (!root) {
        throw Error(fmt::format("{}: \"{}\": {}", command, *path, root.error()));
      }
      certs.roots = root->ca_certificates;
      trust.rekor_keys.insert(trust.rekor_keys.end(), root->rekor_keys.begin(), root->rekor_keys.end());
    }
    if (auto path = args.get("ca-roots")) {
      auto roots = certificates(command, *path);
      certs.roots.insert(certs.roots.end(), roots.begin(), roots.end());
    }
    if (auto path = args.get("ca-intermediates")) {
      certs.intermediates = certificates(command, *path);
    }
    if (certs.roots.empty()) {
      throw Error(fmt::format("{}: keyless verification needs --trusted-root or --ca-roots", command));
    }
    trust.certificates = std::move(certs);
  }
  if (trust.keys.empty() && !trust.certificates) {
    throw Error(fmt::format("{}: give --key KEY, or --certificate-identity with --trusted-root or --ca-roots",
                            command));
  }
  return trust;
}

// kiln verify against the trust policy, as kiln build checks a base.
int verify_with_policy(const Args& args)
{
  std::optional<std::filesystem::path> explicit_path;
  if (auto path = args.get("policy")) {
    explicit_path = *path;
  }
  auto policy = signer::load_configured_policy(explicit_path);
  if (!policy) {
    throw Error("verify: " + policy.error());
  }
  if (!*policy) {
    throw Error("verify: give --key KEY, keyless flags or --policy FILE (no kiln.toml found)");
  }
  const auto* found = &(*policy)->file;
  const std::string& text = args.positional()[0];
  auto source = open_source(text);
  signer::LayoutAttachmentSource attachments(source.layout());
  auto decision = signer::check_image(**policy, text, source.top().digest, attachments, std::time(nullptr));
  if (!decision.accepted()) {
    throw Error(fmt::format("verify \"{}\": refused by policy \"{}\": {}", text, found->string(), decision.reason));
  }
  if (decision.signatures.empty()) {
    throw Error(fmt::format("verify \"{}\": {}; no signature was verified", text, decision.reason));
  }
  fmt::print("Verified {} ({}) by policy \"{}\": {}\n", source.top().digest.str(), text, found->string(),
             decision.reason);
  for (const auto& type : decision.attestations) {
    fmt::print("Verified attestation {}\n", type);
  }
  return 0;
}

} // namespace

int cmd_verify(std::string_view name, std::span<const std::string> argv)
{
  Args args(name, argv, trust_options());
  if (args.help()) {
    print_help_if_asked(name, argv);
    return 0;
  }
  args.expect_positional(1, 1, "kiln verify (--key KEY | --certificate-identity ID ... | --policy FILE) REF");
  bool has_trust_flags = args.has("key") || args.has("certificate-identity") || args.has("certificate-hostname");
  if (args.has("policy") || !has_trust_flags) {
    return verify_with_policy(args);
  }
  signer::TrustMaterial trust = trust_from_args(args, "verify");
  const std::string& text = args.positional()[0];
  auto source = open_source(text);
  const oci::Digest& digest = source.top().digest;

  signer::SignatureClaims claims{digest, std::nullopt, signer::IdentityMatch::repository, {}};
  if (auto identity = args.get("identity")) {
    auto named = unwrap(signer::normalise_reference(*identity));
    claims.image_reference = *identity;
    claims.match = named.tag.empty() ? signer::IdentityMatch::repository : signer::IdentityMatch::exact;
  }
  claims.annotations = annotation_options(args, "verify");

  signer::LayoutAttachmentSource attachments(source.layout());
  auto evidence = signer::load_attachments(attachments, digest, signer::AttachmentKind::signatures);
  if (!evidence) {
    throw Error(fmt::format("verify \"{}\": {}", text, evidence.error()));
  }
  if (evidence->empty()) {
    throw Error(fmt::format("verify \"{}\": no signature for {}", text, digest.str()));
  }
  auto report = signer::verify_signatures(*evidence, trust, claims, std::time(nullptr));
  if (!report.ok()) {
    throw Error(fmt::format("verify \"{}\": {}: {}", text, digest.str(), report.why_rejected()));
  }
  for (const auto& verified : report.accepted) {
    fmt::print("Verified {} ({}): signed by {}, identity {}{}\n", digest.str(), text, verified.signer,
               verified.docker_reference,
               verified.integrated_time ? fmt::format(", in Rekor at {}", rfc3339_utc(*verified.integrated_time))
                                        : std::string());
  }
  return 0;
}

int cmd_verify_attestation(std::string_view name, std::span<const std::string> argv)
{
  Args args(name, argv, trust_options());
  if (args.help()) {
    print_help_if_asked(name, argv);
    return 0;
  }
  args.expect_positional(1, 1, "kiln verify-attestation --key KEY [--type TYPE] [--print-predicate] REF");
  signer::TrustMaterial trust = trust_from_args(args, "verify-attestation");
  if (trust.keys.empty()) {
    throw Error("verify-attestation: only key-based attestations are supported (give --key)");
  }
  std::optional<std::string> type;
  if (auto name_or_uri = args.get("type")) {
    type = unwrap(signer::predicate_type_uri(*name_or_uri));
  }
  const std::string& text = args.positional()[0];
  auto source = open_source(text);
  const oci::Digest& digest = source.top().digest;
  signer::LayoutAttachmentSource attachments(source.layout());
  auto layers = signer::load_attachments(attachments, digest, signer::AttachmentKind::attestations);
  if (!layers) {
    throw Error(fmt::format("verify-attestation \"{}\": {}", text, layers.error()));
  }
  if (layers->empty()) {
    throw Error(fmt::format("verify-attestation \"{}\": no attestation for {}", text, digest.str()));
  }
  std::vector<std::string> rejected;
  int verified_count = 0;
  for (const auto& layer : *layers) {
    auto verified = signer::verify_attestation(layer, trust.keys, digest, type);
    if (!verified) {
      rejected.push_back(verified.error());
      continue;
    }
    ++verified_count;
    fmt::print("Verified attestation {} of {} ({}): signed by {}\n", verified->statement.predicate_type,
               digest.str(), text, verified->signer);
    if (args.has("print-predicate")) {
      fmt::print("{}\n", verified->statement.predicate.dump(2));
    }
  }
  if (verified_count == 0) {
    signer::VerifyReport report;
    report.rejected = rejected;
    throw Error(fmt::format("verify-attestation \"{}\": {}: {}", text, digest.str(), report.why_rejected()));
  }
  return 0;
}

} // namespace kiln::cli
