#pragma once

// Low-level code that can fail for ordinary reasons returns Result<T>: the
// value, or one line that names the operation, the object and the cause.

#include <string>

#include <tl/expected.hpp>

namespace kiln {

template<typename T> using Result = tl::expected<T, std::string>;

inline tl::unexpected<std::string> fail(std::string message)
{
  return tl::unexpected<std::string>(std::move(message));
}

} // namespace kiln
