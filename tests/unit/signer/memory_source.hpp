#pragma once

// An in-memory AttachmentSource for tests: attachment images built by the
// signer library, kept as tag -> manifest and digest -> blob.

#include "base/strings.hpp"
#include "signer/dsse.hpp"
#include "signer/payload.hpp"
#include "signer/source.hpp"

#include <map>

class MemorySource : public kiln::signer::AttachmentSource
{
public:
  kiln::Result<std::optional<std::string>> tagged_manifest(std::string_view tag) override
  {
    auto it = m_tags.find(std::string(tag));
    return it == m_tags.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
  }
  kiln::Result<std::string> blob(const kiln::oci::Digest& digest, uint64_t) override
  {
    auto it = m_blobs.find(digest.str());
    if (it == m_blobs.end()) {
      return kiln::fail("blob " + digest.str() + " is missing");
    }
    return it->second;
  }

  void add(const kiln::oci::Digest& image, kiln::signer::AttachmentKind kind,
           const kiln::signer::AttachmentLayer& layer, const std::string& blob)
  {
    std::string tag = kiln::signer::attachment_tag(image, kind);
    std::vector<kiln::signer::AttachmentLayer> existing;
    if (m_tags.contains(tag)) {
      existing = *kiln::signer::parse_attachment_manifest(m_tags[tag]);
    }
    auto built = kiln::signer::append_attachment(existing, layer, blob, [](const auto&) { return false; });
    for (const auto& b : built.blobs) {
      m_blobs[b.digest.str()] = b.data;
    }
    m_tags[tag] = built.manifest;
  }

  void sign(const kiln::signer::PrivateKey& key, const kiln::oci::Digest& image, const std::string& reference,
            const kiln::oci::Digest& signed_digest)
  {
    std::string payload = kiln::signer::write_payload(reference, signed_digest);
    add(image, kiln::signer::AttachmentKind::signatures,
        {std::string(kiln::signer::k_simple_signing_media_type),
         kiln::oci::Digest::of(payload),
         payload.size(),
         {{std::string(kiln::signer::k_signature_annotation), kiln::base64_encode(*key.sign(payload))}}},
        payload);
  }

  void attest(const kiln::signer::PrivateKey& key, const kiln::oci::Digest& image,
              const std::string& statement, const std::string& predicate_type)
  {
    std::string envelope = *kiln::signer::sign_envelope(key, kiln::signer::k_in_toto_payload_type, statement);
    add(image, kiln::signer::AttachmentKind::attestations,
        {std::string(kiln::signer::k_dsse_media_type),
         kiln::oci::Digest::of(envelope),
         envelope.size(),
         {{std::string(kiln::signer::k_signature_annotation), ""}, {"predicateType", predicate_type}}},
        envelope);
  }

private:
  std::map<std::string, std::string> m_tags;
  std::map<std::string, std::string> m_blobs;
};
