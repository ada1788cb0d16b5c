#include <fmt/core.h>

#include "base/error.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/signing.hpp"
#include "signer/store.hpp"

namespace kiln::cli {

int cmd_sign(std::string_view name, std::span<const std::string> argv)
{
  Args args(name, argv, {{"key"}, {"annotation", Takes::value, 'a'}, {"identity"}, {"bundle", Takes::none}});
  if (args.help()) {
    print_help_if_asked(name, argv);
    return 0;
  }
  args.expect_positional(1, 1, "kiln sign --key KEY [-a KEY=VALUE]... [--identity NAME:TAG] [--bundle] REF");
  signer::SignOptions options;
  options.annotations = annotation_options(args, "sign");
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

} // namespace kiln::cli
