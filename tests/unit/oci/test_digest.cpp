#include <doctest/doctest.h>

#include "oci/digest.hpp"

#include <cstdio>
#include <string>

#include <unistd.h>

using namespace kiln::oci;

TEST_CASE("sha256 of known inputs")
{
  CHECK(Digest::of("").str() == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Digest::of("{}").str() == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

TEST_CASE("streaming hash equals one-shot hash")
{
  Hasher hasher;
  hasher.update("hello ");
  hasher.update("world");
  CHECK(hasher.bytes() == 11);
  CHECK(hasher.finish() == Digest::of("hello world"));
}

TEST_CASE("digest parsing validates algorithm and encoding")
{
  const std::string good = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto d = Digest::parse(good);
  REQUIRE(d);
  CHECK(d->str() == good);
  CHECK(d->short_str() == "sha256:e3b0c44298fc");

  CHECK_FALSE(Digest::parse("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  CHECK_FALSE(Digest::parse("sha256:abc"));
  CHECK_FALSE(Digest::parse("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  auto md5 = Digest::parse("md5:d41d8cd98f00b204e9800998ecf8427e");
  REQUIRE_FALSE(md5);
  CHECK(md5.error().find("unsupported digest algorithm \"md5\"") != std::string::npos);

  auto sha512 = Digest::of("", Algorithm::sha512);
  CHECK(Digest::parse(sha512.str()));
  auto refused = Digest::parse_sha256(sha512.str());
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("only sha256") != std::string::npos);
}

TEST_CASE("the digest of a file descriptor reads it all and leaves its offset alone")
{
  FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  std::string data(3 << 20, 'x'); // more than one read
  data += "end";
  REQUIRE(std::fwrite(data.data(), 1, data.size(), file) == data.size());
  std::fflush(file);
  int fd = ::fileno(file);
  REQUIRE(::lseek(fd, 5, SEEK_SET) == 5);
  uint64_t bytes = 10;
  auto digest = digest_of_fd(fd, Algorithm::sha256, &bytes);
  REQUIRE(digest);
  CHECK(*digest == Digest::of(data));
  CHECK(bytes == 10 + data.size());
  CHECK(::lseek(fd, 0, SEEK_CUR) == 5);
  std::fclose(file);
  CHECK_FALSE(digest_of_fd(-1));
}
