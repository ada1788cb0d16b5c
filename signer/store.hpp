#pragma once

// Signing and attesting images in an OCI layout (kiln's content store and
// oci: directories), through oci::Layout: the `.sig`/`.att` images are
// tagged sha256-<hex>.sig/.att with the `kind` annotations cosign's `save`
// writes, and are read, extended and re-tagged under the layout's index
// lock so concurrent signers never lose each other's layers.

#include "base/result.hpp"
#include "oci/descriptor.hpp"
#include "oci/layout.hpp"
#include "signer/attachment.hpp"
#include "signer/keys.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kiln::signer {

enum class Bundle { yes, no };

struct StoredAttachment
{
  oci::Digest image;
  std::string tag;
  oci::Digest manifest;
  bool added = false; // false when an identical signature was already there
  std::optional<oci::Digest> bundle_referrer;
};

// Adds layer (with blob) to the image's attachment, as append_attachment does.
Result<StoredAttachment> store_attachment(const oci::Layout& layout, const oci::Digest& image,
                                          AttachmentKind kind, const AttachmentLayer& layer,
                                          std::string_view blob, const SameSigner& same_signer,
                                          Replace replace = Replace::no);

struct SignOptions
{
  std::string identity; // docker-reference, "host/path:tag"
  std::map<std::string, std::string> annotations;
  Bundle bundle = Bundle::no;
  std::string created; // RFC 3339, for the bundle referrer
};

struct SignedImage
{
  std::vector<StoredAttachment> signatures; // the top manifest first, then an index's children
  std::optional<oci::Digest> bundle_referrer;
};

// Writes a sigstore bundle v0.3 of statement and its OCI 1.1 referrer
// manifest (subject: top) as blobs; returns the referrer's digest.
Result<oci::Digest> store_bundle(const oci::Layout& layout, const oci::Descriptor& top, const PrivateKey& key,
                                 std::string_view statement, std::string_view predicate_type,
                                 std::string_view created);

// Signs top and, when it is an index, each manifest it lists.
Result<SignedImage> sign_image(const oci::Layout& layout, const oci::Descriptor& top, const PrivateKey& key,
                               const SignOptions& options);

struct AttestOptions
{
  std::string subject_name; // repository, no tag
  std::string predicate_type;
  nlohmann::ordered_json predicate;
  Replace replace = Replace::no;
  Bundle bundle = Bundle::no; // also a sigstore bundle v0.3 referrer
  std::string created;        // RFC 3339, for the bundle referrer
};

Result<StoredAttachment> attest_image(const oci::Layout& layout, const oci::Descriptor& top,
                                      const PrivateKey& key, const AttestOptions& options);

} // namespace kiln::signer
