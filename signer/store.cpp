#include "signer/store.hpp"

#include "base/strings.hpp"
#include "oci/manifest.hpp"
#include "oci/mediatype.hpp"
#include "signer/bundle.hpp"
#include "signer/dsse.hpp"
#include "signer/payload.hpp"
#include "signer/statement.hpp"

#include <fmt/core.h>

namespace kiln::signer {

namespace {

const std::string k_ref_name(oci::k_annotation_ref_name);

std::string_view kind_annotation(AttachmentKind kind)
{
  return kind == AttachmentKind::signatures ? k_kind_sigs : k_kind_atts;
}

} // namespace

Result<oci::Digest> store_bundle(const oci::Layout& layout, const oci::Descriptor& top, const PrivateKey& key,
                                 std::string_view statement, std::string_view predicate_type,
                                 std::string_view created)
{
  auto bundle = write_bundle(key, statement);
  if (!bundle) {
    return fail(bundle.error());
  }
  Subject subject{top.media_type, top.digest, static_cast<uint64_t>(top.size)};
  std::string referrer = write_bundle_referrer(subject, *bundle, predicate_type, created);
  for (const auto& [data, media_type] :
       {std::pair<std::string_view, std::string_view>{*bundle, k_bundle_media_type},
        {"{}", oci::mediatype::k_oci_empty},
        {referrer, k_oci_manifest_media_type}}) {
    auto written = layout.write_blob(data, media_type);
    if (!written) {
      return fail(written.error());
    }
  }
  // Like cosign's `save`, the referrer lives as a blob; readers find it by its subject.
  return oci::Digest::of(referrer);
}

Result<StoredAttachment> store_attachment(const oci::Layout& layout, const oci::Digest& image,
                                          AttachmentKind kind, const AttachmentLayer& layer,
                                          std::string_view blob, const SameSigner& same_signer,
                                          Replace replace)
{
  StoredAttachment stored{image, attachment_tag(image, kind), image, false, {}};
  auto updated = layout.update_index([&](oci::ImageIndex& index) -> Result<void> {
    std::vector<AttachmentLayer> existing;
    auto entry = std::find_if(index.manifests.begin(), index.manifests.end(), [&](const oci::Descriptor& d) {
      auto it = d.annotations.find(k_ref_name);
      return it != d.annotations.end() && it->second == stored.tag;
    });
    if (entry != index.manifests.end()) {
      auto bytes = layout.read_blob(*entry);
      if (!bytes) {
        return fail(bytes.error());
      }
      auto layers = parse_attachment_manifest(*bytes);
      if (!layers) {
        return fail(fmt::format("{}: {}", stored.tag, layers.error()));
      }
      existing = std::move(*layers);
    }
    AttachmentImage built = append_attachment(existing, layer, blob, same_signer, replace);
    stored.added = built.added;
    for (size_t i = 0; i < built.blobs.size(); ++i) {
      // blobs[0] is the config, then the new layer.
      auto written =
          layout.write_blob(built.blobs[i].data, i == 0 ? k_oci_config_media_type : layer.media_type);
      if (!written) {
        return fail(written.error());
      }
    }
    auto manifest = layout.write_blob(built.manifest, k_oci_manifest_media_type);
    if (!manifest) {
      return fail(manifest.error());
    }
    stored.manifest = manifest->digest;
    oci::Descriptor descriptor = *manifest;
    descriptor.annotations[k_ref_name] = stored.tag;
    descriptor.annotations[std::string(k_kind_annotation)] = std::string(kind_annotation(kind));
    if (entry != index.manifests.end()) {
      *entry = std::move(descriptor);
    } else {
      index.manifests.push_back(std::move(descriptor));
    }
    // cosign's `load` finds the signed image by its kind annotation.
    for (auto& d : index.manifests) {
      if (d.digest == image && !d.annotations.contains(std::string(k_kind_annotation))) {
        d.annotations[std::string(k_kind_annotation)] =
            std::string(oci::mediatype::is_index(d.media_type) ? k_kind_image_index : k_kind_image);
      }
    }
    return {};
  });
  if (!updated) {
    return fail(updated.error());
  }
  return stored;
}

Result<SignedImage> sign_image(const oci::Layout& layout, const oci::Descriptor& top, const PrivateKey& key,
                               const SignOptions& options)
{
  if (auto named = normalise_reference(options.identity); !named || named->tag.empty()) {
    return fail(
        fmt::format("signed identity \"{}\" must be a tagged name (host/path:tag)", options.identity));
  }
  std::vector<oci::Digest> digests = {top.digest};
  if (oci::mediatype::is_index(top.media_type)) {
    auto bytes = layout.read_blob(top);
    auto index = bytes ? oci::ImageIndex::parse(*bytes) : Result<oci::ImageIndex>(fail(bytes.error()));
    if (!index) {
      return fail(index.error());
    }
    for (const auto& child : index->manifests) {
      digests.push_back(child.digest);
    }
  }
  nlohmann::json optional = nullptr;
  for (const auto& [k, v] : options.annotations) {
    optional[k] = v;
  }
  PublicKey public_key = key.public_key();
  SignedImage result;
  for (const auto& digest : digests) {
    std::string payload = write_payload(options.identity, digest, optional);
    auto signature = key.sign(payload);
    if (!signature) {
      return fail(signature.error());
    }
    AttachmentLayer layer{std::string(k_simple_signing_media_type),
                          oci::Digest::of(payload),
                          payload.size(),
                          {{std::string(k_signature_annotation), base64_encode(*signature)}}};
    auto same_signer = [&](const AttachmentLayer& existing) {
      auto it = existing.annotations.find(std::string(k_signature_annotation));
      auto old = it == existing.annotations.end() ? std::nullopt : base64_decode(it->second);
      return old && public_key.verify(payload, *old).has_value();
    };
    auto stored = store_attachment(layout, digest, AttachmentKind::signatures, layer, payload, same_signer);
    if (!stored) {
      return fail(stored.error());
    }
    result.signatures.push_back(*stored);
  }
  if (options.bundle == Bundle::yes) {
    std::string statement = write_statement(repository_of(options.identity), top.digest,
                                            k_cosign_sign_predicate, nlohmann::ordered_json::object());
    auto referrer = store_bundle(layout, top, key, statement, k_cosign_sign_predicate, options.created);
    if (!referrer) {
      return fail(referrer.error());
    }
    result.bundle_referrer = *referrer;
  }
  return result;
}

Result<StoredAttachment> attest_image(const oci::Layout& layout, const oci::Descriptor& top,
                                      const PrivateKey& key, const AttestOptions& options)
{
  std::string statement =
      write_statement(options.subject_name, top.digest, options.predicate_type, options.predicate);
  auto envelope = sign_envelope(key, k_in_toto_payload_type, statement);
  if (!envelope) {
    return fail(envelope.error());
  }
  if (envelope->size() > k_max_attachment_layer) {
    return fail(fmt::format("attestation envelope is {} bytes, over the 4 MiB limit readers accept",
                            envelope->size()));
  }
  AttachmentLayer layer{std::string(k_dsse_media_type),
                        oci::Digest::of(*envelope),
                        envelope->size(),
                        {{std::string(k_signature_annotation), ""},
                         {std::string(k_predicate_type_annotation), options.predicate_type}}};
  auto stored = store_attachment(
      layout, top.digest, AttachmentKind::attestations, layer, *envelope,
      [](const AttachmentLayer&) { return false; }, options.replace);
  if (stored && options.bundle == Bundle::yes) {
    auto referrer = store_bundle(layout, top, key, statement, options.predicate_type, options.created);
    if (!referrer) {
      return fail(referrer.error());
    }
    stored->bundle_referrer = *referrer;
  }
  return stored;
}

} // namespace kiln::signer
