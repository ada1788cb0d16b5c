#include "cli/signing.hpp"

#include <chrono>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "cli/resolve.hpp"
#include "signer/password.hpp"

namespace kiln::cli {

oci::ImageSource open_signable(std::string_view command, const std::string& text)
{
  oci::ImageReference ref = parse_reference(text);
  if (ref.transport != oci::Transport::oci && ref.transport != oci::Transport::local) {
    throw Error(fmt::format("{} \"{}\": only oci: layouts and kiln's local store can hold signatures", command,
                            text));
  }
  return unwrap(oci::ImageSource::open(ref));
}

std::string signing_identity(const Args& args, const oci::ImageSource& source, std::string_view command)
{
  if (auto identity = args.get("identity")) {
    return *identity;
  }
  const auto& ref = source.reference();
  if (ref.docker) {
    return ref.docker->str();
  }
  std::string dir = to_lower(std::filesystem::absolute(ref.path).lexically_normal().filename().string());
  if (ref.tag.empty() || dir.empty()) {
    throw Error(fmt::format("{} \"{}\": give --identity HOST/PATH:TAG (the layout reference has no tag)", command,
                            ref.str()));
  }
  return fmt::format("localhost/{}:{}", dir, ref.tag);
}

signer::PrivateKey load_key(const Args& args, std::string_view command)
{
  auto path = args.get("key");
  if (!path) {
    throw Error(fmt::format("{}: --key KEY is required", command));
  }
  return load_key_file(*path, command);
}

signer::PrivateKey load_key_file(const std::string& file, std::string_view command)
{
  const std::string* path = &file;
  std::string text = unwrap(read_file(*path));
  auto key = signer::load_private_key(text, [&] {
    return signer::read_password(fmt::format("\"{}\"", *path), signer::Confirm::no);
  });
  if (!key) {
    throw Error(fmt::format("{}: load key \"{}\": {}", command, *path, key.error()));
  }
  return std::move(*key);
}

std::string now_rfc3339()
{
  return rfc3339_utc(std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
}

std::map<std::string, std::string> annotation_options(const Args& args, std::string_view command)
{
  std::map<std::string, std::string> out;
  for (const auto& pair : args.all("annotation")) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(fmt::format("{}: annotation \"{}\" is not KEY=VALUE", command, pair));
    }
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return out;
}

} // namespace kiln::cli
