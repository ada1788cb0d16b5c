#include "signer/payload.hpp"

#include "base/strings.hpp"
#include "signer/strict_json.hpp"

#include <fmt/core.h>

namespace kiln::signer {

std::string write_payload(std::string_view docker_reference, const oci::Digest& manifest_digest,
                          const nlohmann::json& optional)
{
  // nlohmann's objects keep keys sorted, which is Go's map order for the
  // optional annotations cosign writes.
  return fmt::format(
      R"({{"critical":{{"identity":{{"docker-reference":{}}},"image":{{"docker-manifest-digest":{}}},)"
      R"("type":{}}},"optional":{}}})",
      json_quote(docker_reference), json_quote(manifest_digest.str()), json_quote(k_simple_signing_type),
      optional.dump());
}

Result<Payload> parse_payload(std::string_view bytes)
{
  auto doc = parse_strict_json(bytes);
  if (!doc) {
    return fail("payload: " + doc.error());
  }
  for (auto check : {check_keys(*doc, "payload", {"critical", "optional"}),
                     check_keys((*doc)["critical"], "payload critical", {"type", "image", "identity"})}) {
    if (!check) {
      return fail(check.error());
    }
  }
  const auto& critical = (*doc)["critical"];
  for (auto check : {check_keys(critical["image"], "payload critical.image", {"docker-manifest-digest"}),
                     check_keys(critical["identity"], "payload critical.identity", {"docker-reference"})}) {
    if (!check) {
      return fail(check.error());
    }
  }
  if (!critical["type"].is_string() || critical["type"].get<std::string>() != k_simple_signing_type) {
    return fail(fmt::format("payload type is not \"{}\"", k_simple_signing_type));
  }
  const auto& digest_text = critical["image"]["docker-manifest-digest"];
  const auto& reference = critical["identity"]["docker-reference"];
  if (!digest_text.is_string() || !reference.is_string()) {
    return fail("payload docker-manifest-digest or docker-reference is not a string");
  }
  auto digest = oci::Digest::parse(digest_text.get<std::string>());
  if (!digest) {
    return fail("payload docker-manifest-digest: " + digest.error());
  }
  const auto& optional = (*doc)["optional"];
  if (!optional.is_null()) {
    if (!optional.is_object()) {
      return fail("payload optional is neither null nor an object");
    }
    if (optional.contains("creator") && !optional["creator"].is_string()) {
      return fail("payload optional.creator is not a string");
    }
    if (optional.contains("timestamp") && !optional["timestamp"].is_number_integer()) {
      return fail("payload optional.timestamp is not an integer");
    }
  }
  return Payload{reference.get<std::string>(), *digest, optional};
}

Result<NamedReference> normalise_reference(std::string_view text)
{
  NamedReference out;
  std::string_view name = text;
  if (size_t at = name.find('@'); at != std::string_view::npos) {
    out.by_digest = true;
    name = name.substr(0, at);
  }
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    out.tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
  }
  if (name.empty() || to_lower(name) != name) {
    return fail(fmt::format("\"{}\" is not a valid image reference (empty or upper-case name)", text));
  }
  // Docker's normalisation: a first component without '.' or ':' that is
  // not "localhost" is a Docker Hub path.
  size_t first_slash = name.find('/');
  std::string_view first = name.substr(0, first_slash);
  bool has_domain = first_slash != std::string_view::npos &&
                    (first.find_first_of(".:") != std::string_view::npos || first == "localhost");
  std::string domain = has_domain ? std::string(first) : "docker.io";
  std::string path(has_domain ? name.substr(first_slash + 1) : name);
  if (domain == "index.docker.io") {
    domain = "docker.io";
  }
  if (domain == "docker.io" && path.find('/') == std::string::npos) {
    path = "library/" + path;
  }
  out.repository = domain + "/" + path;
  return out;
}

std::string repository_of(std::string_view identity)
{
  std::string_view name = identity.substr(0, identity.find('@'));
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    name = name.substr(0, colon);
  }
  return std::string(name);
}

Result<void> match_identity(std::string_view signed_reference, std::string_view image_reference,
                            IdentityMatch match)
{
  auto signed_ref = normalise_reference(signed_reference);
  if (!signed_ref) {
    return fail("signed identity: " + signed_ref.error());
  }
  auto image = normalise_reference(image_reference);
  if (!image) {
    return fail(image.error());
  }
  auto mismatch = [&] {
    return fail(
        fmt::format("signed identity \"{}\" does not match \"{}\"", signed_reference, image_reference));
  };
  bool same_repository = signed_ref->repository == image->repository;
  switch (match) {
  case IdentityMatch::repository:
    return same_repository ? Result<void>() : mismatch();
  case IdentityMatch::exact:
    if (signed_ref->tag.empty() || image->tag.empty() || signed_ref->by_digest || image->by_digest) {
      return fail(fmt::format("signed identity \"{}\" and \"{}\" must both be tagged for an exact match",
                              signed_reference, image_reference));
    }
    return same_repository && signed_ref->tag == image->tag ? Result<void>() : mismatch();
  case IdentityMatch::repo_digest_or_exact:
    if (signed_ref->tag.empty() || signed_ref->by_digest) {
      return fail(fmt::format("signed identity \"{}\" has no tag", signed_reference));
    }
    if (image->by_digest) {
      return same_repository ? Result<void>() : mismatch();
    }
    return same_repository && signed_ref->tag == image->tag ? Result<void>() : mismatch();
  }
  return mismatch();
}

} // namespace kiln::signer
