#include <doctest/doctest.h>

#include <cstdlib>
#include <fcntl.h>
#include <unistd.h>

#include "signer/password.hpp"

using namespace kiln::signer;

TEST_CASE("KILN_PASSWORD wins over COSIGN_PASSWORD and an empty value counts")
{
  setenv("KILN_PASSWORD", "kiln", 1);
  setenv("COSIGN_PASSWORD", "cosign", 1);
  CHECK(*read_password("k", Confirm::no) == "kiln");
  unsetenv("KILN_PASSWORD");
  CHECK(*read_password("k", Confirm::no) == "cosign");
  setenv("COSIGN_PASSWORD", "", 1);
  auto empty = read_password("k", Confirm::yes);
  REQUIRE(empty);
  CHECK(empty->empty());
  unsetenv("COSIGN_PASSWORD");
}

TEST_CASE("without the variables and without a terminal it is an error")
{
  unsetenv("KILN_PASSWORD");
  unsetenv("COSIGN_PASSWORD");
  int saved = dup(STDIN_FILENO);
  int null = open("/dev/null", O_RDONLY);
  dup2(null, STDIN_FILENO);
  auto r = read_password("the key", Confirm::no);
  dup2(saved, STDIN_FILENO);
  close(null);
  close(saved);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("set KILN_PASSWORD or COSIGN_PASSWORD") != std::string::npos);
}
