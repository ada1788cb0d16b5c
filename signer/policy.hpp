#pragma once

// The trust policy: which images kiln may build on. kiln.toml holds
// [[trust]] tables; docs/trust-policy.md explains them with examples.
//
//   [[trust]]
//   scope = "oci:/srv/bases" | "registry.example.com/distroless" | "*"
//   require = "signed" | "insecure-accept-anything" | "reject"
//   keys = ["keys/publisher.pub"]              # relative to the policy file
//   identity = "keyless@distroless.iam.gserviceaccount.com"   # keyless: SAN
//   issuer = "https://accounts.google.com"                    # keyless: OIDC issuer
//   trusted_root = "trusted_root.json"          # keyless: Fulcio CAs + Rekor keys
//   ca_roots = "fulcio.pem"  rekor_keys = ["rekor.pub"]        # instead of trusted_root
//   attestations = ["https://cosign.sigstore.dev/attestation/vuln/v1"]  # or type names (vuln, ...)
//
// The most specific matching scope decides: the longest matching prefix,
// "*" last. No matching scope refuses the image.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "signer/source.hpp"
#include "signer/verify.hpp"

namespace kiln::signer {

enum class Requirement { signed_by, insecure_accept_anything, reject };

struct TrustRule
{
  std::string scope;
  Requirement require = Requirement::signed_by;
  TrustMaterial trust;
  std::vector<std::string> key_paths; // as resolved, for messages
  std::vector<std::string> attestations; // predicate type URIs that must be present
};

struct Policy
{
  std::filesystem::path file;
  std::vector<TrustRule> rules;
};

// Parses a policy file; key, root and certificate paths are relative to it
// and are read now, so a broken policy fails before any image is touched.
Result<Policy> load_policy(const std::filesystem::path& file);

// The first that exists of: explicit (--policy), $KILN_POLICY, ./kiln.toml,
// $XDG_CONFIG_HOME/kiln/kiln.toml (~/.config), /etc/kiln/kiln.toml.
// An explicit path or $KILN_POLICY that does not exist is an error.
Result<std::optional<std::filesystem::path>> find_policy(const std::optional<std::filesystem::path>& explicit_path);

// find_policy then load_policy: what `kiln build` calls once per build.
// nullopt when no policy exists anywhere (kiln build then refuses unverified
// bases unless --insecure-allow-unverified-base).
Result<std::optional<Policy>> load_configured_policy(const std::optional<std::filesystem::path>& explicit_path);

// The rule whose scope matches the reference most specifically, or null.
const TrustRule* match_scope(const Policy& policy, std::string_view reference);

enum class Verdict { accepted, rejected };

struct PolicyDecision
{
  Verdict verdict = Verdict::rejected;
  std::string scope;   // the scope that decided ("" when none matched)
  std::string reason;  // one line: why accepted or refused
  std::vector<VerifiedSignature> signatures;
  std::vector<std::string> attestations; // predicate types verified
  bool accepted() const { return verdict == Verdict::accepted; }
};

// Decides whether the image `reference`, whose manifest digest the caller
// resolved, may be used. Signatures and attestations are fetched through
// source by that digest; nothing else is trusted. The caller must then use
// exactly that digest (never resolve the tag again), e.g. in the builder:
//
//   auto policy = load_configured_policy(options.policy);          // once
//   oci::Descriptor base = <resolve FROM reference in its layout>;
//   signer::LayoutAttachmentSource sigs(layout);
//   auto decision = signer::check_image(*policy, from_text, base.digest, sigs, time(nullptr));
//   if (!decision.accepted()) throw Error("FROM " + from_text + ": refused: " + decision.reason);
PolicyDecision check_image(const Policy& policy, std::string_view reference, const oci::Digest& digest,
                           AttachmentSource& source, int64_t now);

} // namespace kiln::signer
