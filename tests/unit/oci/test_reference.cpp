#include <doctest/doctest.h>

#include "oci/reference.hpp"

using namespace kiln::oci;

TEST_CASE("Docker Hub normalisation")
{
  CHECK(DockerReference::parse("ubuntu")->str() == "docker.io/library/ubuntu:latest");
  CHECK(DockerReference::parse("ubuntu:22.04")->str() == "docker.io/library/ubuntu:22.04");
  CHECK(DockerReference::parse("index.docker.io/library/ubuntu")->str() == "docker.io/library/ubuntu:latest");
  CHECK(DockerReference::parse("user/app")->str() == "docker.io/user/app:latest");
  CHECK(DockerReference::parse("gcr.io/distroless/static-debian12:nonroot")->str()
        == "gcr.io/distroless/static-debian12:nonroot");
  CHECK(DockerReference::parse("localhost:5000/a/b:c")->str() == "localhost:5000/a/b:c");
  auto pinned = DockerReference::parse(
    "ubuntu@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  REQUIRE(pinned);
  CHECK(pinned->tag.empty());
  CHECK(pinned->digest.has_value());
}

TEST_CASE("invalid Docker references are refused with a reason")
{
  CHECK_FALSE(DockerReference::parse(""));
  CHECK_FALSE(DockerReference::parse("Ubuntu"));
  CHECK_FALSE(DockerReference::parse("ubuntu:"));
  CHECK_FALSE(DockerReference::parse("ubuntu:-bad"));
  CHECK_FALSE(DockerReference::parse("a//b"));
  CHECK_FALSE(DockerReference::parse("a@sha256:short"));
  auto r = DockerReference::parse("app/Bad");
  REQUIRE_FALSE(r);
  CHECK(r.error().find("\"app/Bad\"") != std::string::npos);
}

TEST_CASE("transports")
{
  auto oci = ImageReference::parse("oci:/tmp/layout:v1");
  REQUIRE(oci);
  CHECK(oci->transport == Transport::oci);
  CHECK(oci->path == "/tmp/layout");
  CHECK(oci->tag == "v1");
  CHECK(ImageReference::parse("oci:/tmp/layout")->tag.empty());
  CHECK(ImageReference::parse("oci:dir:localhost/app:1")->tag == "localhost/app:1");

  auto archive = ImageReference::parse("oci-archive:/tmp/a.tar:v2");
  REQUIRE(archive);
  CHECK(archive->transport == Transport::oci_archive);
  CHECK(archive->tag == "v2");

  auto docker_archive = ImageReference::parse("docker-archive:/tmp/d.tar:app:1");
  REQUIRE(docker_archive);
  CHECK(docker_archive->docker->str() == "docker.io/library/app:1");

  auto registry = ImageReference::parse("docker://quay.io/org/app:3");
  REQUIRE(registry);
  CHECK(registry->transport == Transport::docker);
  CHECK(registry->docker->name() == "quay.io/org/app");

  auto local = ImageReference::parse("app:1");
  REQUIRE(local);
  CHECK(local->transport == Transport::local);
  CHECK(local->tag == "localhost/app:1");
  CHECK(local->str() == "app:1");

  auto refused = ImageReference::parse("containers-storage:app");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("not supported") != std::string::npos);
  CHECK_FALSE(ImageReference::parse("oci:"));
  CHECK_FALSE(ImageReference::parse("oci:/x:"));
}
