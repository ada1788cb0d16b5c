#pragma once

#include <stdexcept>
#include <string>


namespace kiln {

// A failure the user can fix (bad input, a failed build step). cli/ prints
// what() as one line and exits with exit_code().
class Error : public std::runtime_error
{
public:
  explicit Error(const std::string& message, int exit_code = 1)
    : std::runtime_error(message), m_exit_code(exit_code)
  {
  }

  int exit_code() const { return m_exit_code; }

private:
  int m_exit_code = 1;
};

// Everything else: an internal invariant or environment failure.
class Fatal : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

// strerror() for the current errno, thread-safe.
std::string errno_text(int err);

} // namespace kiln
