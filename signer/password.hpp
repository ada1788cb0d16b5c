#pragma once

// Where a key password comes from: KILN_PASSWORD, else COSIGN_PASSWORD (an
// empty value counts when the variable is set), else a prompt without echo
// when stdin is a terminal, else an error. Never logged.

#include "base/result.hpp"

#include <string>
#include <string_view>

namespace kiln::signer {

enum class Confirm { yes, no };

Result<std::string> read_password(std::string_view purpose, Confirm confirm);

} // namespace kiln::signer
