#include <chrono>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "signer/password.hpp"
#include "signer/payload.hpp"
#include "signer/statement.hpp"
#include "signer/store.hpp"

namespace kiln::cli {

namespace {

// Signing writes next to the image, so only layouts (oci: and the local
// store) qualify until the registry transport exists.
oci::ImageSource open_signable(std::string_view command, const std::string& text)
{
  oci::ImageReference ref = parse_reference(text);
  if (ref.transport != oci::Transport::oci && ref.transport != oci::Transport::local) {
    throw Error(fmt::format("{} \"{}\": only oci: layouts and kiln's local store can hold signatures", command,
                            text));
  }
  return unwrap(oci::ImageSource::open(ref));
}

// The docker-reference to sign: --identity, the image's own name, or for an
// oci: layout localhost/<directory>:<tag> (how buildah names local images).
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

} // namespace

int cmd_sign(std::string_view name, std::span<const std::string> argv)
{
  Args args(name, argv, {{"key"}, {"annotation", Takes::value, 'a'}, {"identity"}, {"bundle", Takes::none}});
  if (args.help()) {
    print_help_if_asked(name, argv);
    return 0;
  }
  args.expect_positional(1, 1, "kiln sign --key KEY [-a KEY=VALUE]... [--identity NAME:TAG] [--bundle] REF");
  signer::SignOptions options;
  for (const auto& pair : args.all("annotation")) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(fmt::format("sign: annotation \"{}\" is not KEY=VALUE", pair));
    }
    options.annotations[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  const std::string& text = args.positional()[0];
  auto source = open_signable("sign", text);
  options.identity = signing_identity(args, source, "sign");
  options.bundle = args.has("bundle") ? signer::Bundle::yes : signer::Bundle::no;
  options.created = now_rfc3339();
  signer::PrivateKey key = load_key(args, "sign");
  auto signed_image = signer::sign_image(source.layout(), source.top(), key, options);
  if (!signed_image) {
    throw Error(fmt::format("sign \"{}\": {}", text, signed_image.error()));
  }
  for (const auto& s : signed_image->signatures) {
    fmt::print("{} {} as {} with {} ({})\n", s.added ? "Signed" : "Already signed", s.image.str(), options.identity,
               key.public_key().describe(), s.tag);
  }
  if (signed_image->bundle_referrer) {
    fmt::print("Bundle referrer manifest {}\n", signed_image->bundle_referrer->str());
  }
  return 0;
}

int cmd_attest(std::string_view name, std::span<const std::string> argv)
{
  Args args(name, argv, {{"key"}, {"type"}, {"predicate"}, {"identity"}, {"replace", Takes::none}});
  if (args.help()) {
    print_help_if_asked(name, argv);
    return 0;
  }
  args.expect_positional(1, 1, "kiln attest --key KEY --type TYPE --predicate FILE [--replace] REF");
  auto predicate_file = args.get("predicate");
  if (!predicate_file) {
    throw Error("attest: --predicate FILE is required");
  }
  std::string type = args.get("type").value_or("custom");
  std::string uri = unwrap(signer::predicate_type_uri(type));
  std::string predicate_text = unwrap(read_file(*predicate_file));
  auto predicate = signer::predicate_from_file(type, predicate_text, now_rfc3339());
  if (!predicate) {
    throw Error(fmt::format("attest: \"{}\": {}", *predicate_file, predicate.error()));
  }
  const std::string& text = args.positional()[0];
  auto source = open_signable("attest", text);
  std::string identity = signing_identity(args, source, "attest");
  signer::PrivateKey key = load_key(args, "attest");
  signer::AttestOptions options{signer::repository_of(identity), uri, std::move(*predicate),
                                args.has("replace") ? signer::Replace::same_predicate_type : signer::Replace::no};
  auto stored = signer::attest_image(source.layout(), source.top(), key, options);
  if (!stored) {
    throw Error(fmt::format("attest \"{}\": {}", text, stored.error()));
  }
  fmt::print("Attested {} ({}) with {} ({})\n", stored->image.str(), uri, key.public_key().describe(), stored->tag);
  return 0;
}

} // namespace kiln::cli
