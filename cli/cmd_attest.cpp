#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/resolve.hpp"
#include "cli/signing.hpp"
#include "signer/payload.hpp"
#include "signer/statement.hpp"
#include "signer/store.hpp"

namespace kiln::cli {

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
