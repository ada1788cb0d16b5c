// libFuzzer target for the Containerfile front end: lexer, parser, word
// expansion, stage graph and the JSON writer, on arbitrary bytes. Any
// outcome but a clean model or a ParseError/kiln::Error is a bug.

#include "base/error.hpp"
#include "builder/ignore.hpp"
#include "builder/modeljson.hpp"
#include "builder/parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  std::string_view text(reinterpret_cast<const char*>(data), size);
  kiln::builder::ParseOptions options;
  options.build_args = {{"A", "x y"}, {"TARGET", "final"}, {"HTTP_PROXY", "http://proxy"}};
  // Odd-sized inputs also ask for a target, so --target lookup is exercised.
  if (size % 2 == 1) {
    options.target = "build";
  }
  try {
    auto build = kiln::builder::parse(text, options);
    (void)kiln::builder::to_json(build).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const kiln::Error&) {
  }
  // The same bytes as an ignore file.
  if (auto matcher = kiln::builder::IgnoreMatcher::parse(text)) {
    (void)matcher->excluded("a/b/c.txt");
    (void)matcher->excluded("node_modules/x/y");
  }
  return 0;
}
