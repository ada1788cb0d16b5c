#pragma once

// PEM blocks (RFC 7468) through OpenSSL's generic reader, which accepts any
// label; cosign's key files use labels no typed OpenSSL reader knows.
//
//   block ::= "-----BEGIN " label "-----" LF base64-lines "-----END " label "-----" LF

#include "base/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace kiln::signer {

struct PemBlock
{
  std::string label;
  std::string der;
};

// Every block in text, in order; an error when there is none or one is damaged.
Result<std::vector<PemBlock>> pem_decode_all(std::string_view text);
// One block with 64-column base64 lines and a trailing newline.
std::string pem_encode(std::string_view label, std::string_view der);

} // namespace kiln::signer
