#include "base/error.hpp"
#include "base/fileio.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "signer/cosign_key.hpp"
#include "signer/keys.hpp"
#include "signer/password.hpp"

#include <filesystem>
#include <fmt/core.h>

namespace kiln::cli {

int cmd_keygen(std::string_view name, std::span<const std::string> argv)
{
  Args args(name, argv, {{"output-key-prefix"}});
  if (args.help()) {
    print_help_if_asked(name, argv);
    return 0;
  }
  args.expect_positional(0, 0, "kiln keygen [--output-key-prefix PREFIX]");
  std::string prefix = args.get("output-key-prefix").value_or("cosign");
  std::filesystem::path key_path = prefix + ".key";
  std::filesystem::path pub_path = prefix + ".pub";
  for (const auto& path : {key_path, pub_path}) {
    if (std::filesystem::exists(std::filesystem::symlink_status(path))) {
      throw Error(fmt::format("keygen: \"{}\": file exists (remove it or pick another --output-key-prefix)",
                              path.string()));
    }
  }
  auto password = signer::read_password("the new private key", signer::Confirm::yes);
  if (!password) {
    throw Error("keygen: " + password.error());
  }
  signer::PrivateKey key = signer::PrivateKey::generate_p256();
  std::string pkcs8 = key.pkcs8_der();
  std::string encrypted = signer::encrypt_cosign_key_pem(pkcs8, *password);
  if (auto ok = write_file_atomic(key_path, encrypted, Durable::yes, 0600); !ok) {
    throw Error("keygen: " + ok.error());
  }
  if (auto ok = write_file_atomic(pub_path, key.public_key().pem(), Durable::yes, 0644); !ok) {
    throw Error("keygen: " + ok.error());
  }
  fmt::print("Private key written to {}\nPublic key written to {} ({})\n", key_path.string(),
             pub_path.string(), key.public_key().describe());
  return 0;
}

} // namespace kiln::cli
