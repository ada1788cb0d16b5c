#pragma once

// Access to ../shared (the workplace's shared fixtures) for signer tests.
// Tests that need it report a skip message when it is absent.

#include "base/fileio.hpp"

#include <filesystem>
#include <string>

inline std::filesystem::path shared_dir()
{
  return std::filesystem::path(KILN_SOURCE_ROOT) / ".." / "shared";
}

inline kiln::Result<std::string> read_shared(const std::string& relative)
{
  return kiln::read_file(shared_dir() / relative);
}

#include "base/strings.hpp"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

// One signature of a containers/image `dir:` copy (signature-N):
//   0x00 "sigstore-json" 0x0A {"mimeType":..,"payload":"<b64>","annotations":{..}}
struct DirSignature
{
  std::string mime_type;
  std::string payload;
  std::map<std::string, std::string> annotations;
};

inline std::optional<DirSignature> parse_dir_signature(const std::string& bytes)
{
  const std::string magic = std::string(1, '\0') + "sigstore-json\n";
  if (bytes.compare(0, magic.size(), magic) != 0) {
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(bytes.substr(magic.size()));
  auto payload = kiln::base64_decode(doc.at("payload").get<std::string>());
  if (!payload) {
    return std::nullopt;
  }
  return DirSignature{doc.at("mimeType").get<std::string>(), *payload,
                      doc.at("annotations").get<std::map<std::string, std::string>>()};
}

// signature-1, signature-2, ... of a fixture folder until the first missing one.
inline std::vector<DirSignature> read_dir_signatures(const std::filesystem::path& dir)
{
  std::vector<DirSignature> out;
  for (int i = 1;; ++i) {
    auto bytes = kiln::read_file(dir / ("signature-" + std::to_string(i)));
    if (!bytes) {
      return out;
    }
    if (auto signature = parse_dir_signature(*bytes)) {
      out.push_back(*signature);
    }
  }
}

inline bool have_shared()
{
  return std::filesystem::is_directory(shared_dir() / "interop/cosign-real");
}
