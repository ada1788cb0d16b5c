#pragma once

// Where the signer finds an image's attachments (`.sig` and `.att` images)
// without knowing the transport: the builder and the CLI hand in an
// AttachmentSource for the image's location. LayoutAttachmentSource serves
// an OCI layout; the registry client will provide another.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "oci/digest.hpp"
#include "oci/layout.hpp"
#include "signer/attachment.hpp"
#include "signer/verify.hpp"

namespace kiln::signer {

class AttachmentSource
{
public:
  virtual ~AttachmentSource() = default;
  // The manifest bytes tagged `tag` ("sha256-<hex>.sig"), nullopt when there is none.
  virtual Result<std::optional<std::string>> tagged_manifest(std::string_view tag) = 0;
  // A blob, checked against digest and size.
  virtual Result<std::string> blob(const oci::Digest& digest, uint64_t size) = 0;
};

// Finds attachments by their ref.name tag (what kiln writes) or, in a
// layout written by `cosign save` (one image, no ref.name), by the `kind`
// annotations of the image and attachment entries.
class LayoutAttachmentSource : public AttachmentSource
{
public:
  explicit LayoutAttachmentSource(const oci::Layout& layout) : m_layout(layout) {}
  Result<std::optional<std::string>> tagged_manifest(std::string_view tag) override;
  Result<std::string> blob(const oci::Digest& digest, uint64_t size) override;

private:
  const oci::Layout& m_layout;
};

// Every layer of the image's `.sig` or `.att` attachment with its blob
// (payload or DSSE envelope) and annotations; empty when there is none.
Result<std::vector<SignatureEvidence>> load_attachments(AttachmentSource& source, const oci::Digest& image,
                                                        AttachmentKind kind);

} // namespace kiln::signer
