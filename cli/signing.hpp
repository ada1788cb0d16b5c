#pragma once

// What kiln sign and kiln attest share: the image they write next to, the
// identity they sign and the key they sign with.

#include <map>
#include <string>
#include <string_view>

#include "cli/args.hpp"
#include "oci/transport.hpp"
#include "signer/keys.hpp"

namespace kiln::cli {

// Signing writes next to the image, so only layouts (oci: and the local
// store) qualify until the registry transport exists.
oci::ImageSource open_signable(std::string_view command, const std::string& text);
// The docker-reference to sign: --identity, the image's own name, or for an
// oci: layout localhost/<directory>:<tag> (how buildah names local images).
std::string signing_identity(const Args& args, const oci::ImageSource& source, std::string_view command);
// --key, decrypted with KILN_PASSWORD / COSIGN_PASSWORD or a prompt.
signer::PrivateKey load_key(const Args& args, std::string_view command);
signer::PrivateKey load_key_file(const std::string& path, std::string_view command);
std::string now_rfc3339();
// The -a KEY=VALUE options.
std::map<std::string, std::string> annotation_options(const Args& args, std::string_view command);

} // namespace kiln::cli
