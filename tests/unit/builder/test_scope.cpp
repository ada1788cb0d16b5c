#include "builder/scope.hpp"

#include <doctest/doctest.h>

using namespace kiln::builder;

TEST_CASE("ENV wins over ARG; an ARG without value is unset")
{
  Scope scope;
  scope.set_arg("A", "arg");
  scope.set_arg("B", std::nullopt);
  CHECK(scope.lookup("A") == "arg");
  CHECK(!scope.lookup("B"));
  scope.set_env("A", "env");
  CHECK(scope.lookup("A") == "env");
  scope.set_env("A", "env2");
  CHECK(scope.env().size() == 1);
  CHECK(scope.lookup("A") == "env2");
}

TEST_CASE("platforms parse and name the automatic args")
{
  auto p = Platform::parse("linux/ARM64/v8");
  REQUIRE(p.has_value());
  CHECK(p->str() == "linux/arm64/v8");
  CHECK(!Platform::parse("linux").has_value());
  CHECK(!Platform::parse("linux//v8").has_value());
  auto args = automatic_platform_args(*p, Platform{});
  CHECK(args[0] == std::pair<std::string, std::string>{"TARGETPLATFORM", "linux/arm64/v8"});
  CHECK(args[4] == std::pair<std::string, std::string>{"BUILDPLATFORM", "linux/amd64"});
  CHECK(is_proxy_arg("https_proxy"));
  CHECK(!is_proxy_arg("HTTPS_PROXY_X"));
}
