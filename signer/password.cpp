#include "signer/password.hpp"

#include <cstdio>
#include <cstdlib>
#include <termios.h>
#include <unistd.h>

#include <fmt/core.h>
#include <sodium.h>

#include "base/error.hpp"

namespace kiln::signer {

namespace {

Result<std::string> prompt(const std::string& text)
{
  fmt::print(stderr, "{}", text);
  std::fflush(stderr);
  termios saved;
  if (tcgetattr(STDIN_FILENO, &saved) != 0) {
    return fail(fmt::format("read password: {}", errno_text(errno)));
  }
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  int c;
  while ((c = std::fgetc(stdin)) != EOF && c != '\n') {
    line.push_back(static_cast<char>(c));
  }
  tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (c == EOF && line.empty()) {
    return fail("read password: end of input");
  }
  return line;
}

} // namespace

Result<std::string> read_password(std::string_view purpose, Confirm confirm)
{
  for (const char* name : {"KILN_PASSWORD", "COSIGN_PASSWORD"}) {
    if (const char* value = std::getenv(name)) {
      return std::string(value);
    }
  }
  if (!isatty(STDIN_FILENO)) {
    return fail(fmt::format("password for {}: set KILN_PASSWORD or COSIGN_PASSWORD (stdin is not a terminal)",
                            purpose));
  }
  auto first = prompt(fmt::format("Enter password for {}: ", purpose));
  if (!first || confirm == Confirm::no) {
    return first;
  }
  auto second = prompt(fmt::format("Enter password for {} again: ", purpose));
  if (!second) {
    return second;
  }
  bool same = *first == *second;
  sodium_memzero(second->data(), second->size());
  if (!same) {
    return fail(fmt::format("password for {}: the two entries differ", purpose));
  }
  return first;
}

} // namespace kiln::signer
