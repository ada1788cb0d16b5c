#include <doctest/doctest.h>

#include "base/strings.hpp"
#include "signer/pem.hpp"

using namespace kiln::signer;

TEST_CASE("PEM blocks of any label, in order, with 64-column lines")
{
  std::string der(100, 'x');
  std::string text = pem_encode("ENCRYPTED COSIGN PRIVATE KEY", der) + pem_encode("CERTIFICATE", "abc");
  for (auto line : kiln::split(text, '\n')) {
    CHECK(line.size() <= 64);
  }
  auto blocks = pem_decode_all(text);
  REQUIRE(blocks);
  REQUIRE(blocks->size() == 2);
  CHECK(blocks->at(0).label == "ENCRYPTED COSIGN PRIVATE KEY");
  CHECK(blocks->at(0).der == der);
  CHECK(blocks->at(1).der == "abc");
}

TEST_CASE("no block and damaged blocks are errors")
{
  CHECK_FALSE(pem_decode_all("just text"));
  CHECK_FALSE(pem_decode_all("-----BEGIN X-----\n!!!!\n-----END X-----\n"));
  CHECK_FALSE(pem_decode_all("-----BEGIN X-----\nAAAA\n"));
}
