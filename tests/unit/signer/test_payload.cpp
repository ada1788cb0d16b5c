#include "signer/payload.hpp"
#include "tests/unit/signer/shared.hpp"

#include <doctest/doctest.h>

using namespace kiln::signer;
using kiln::oci::Digest;

namespace {
const Digest k_digest =
    *Digest::parse("sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00");
}

TEST_CASE("the writer reproduces every cosign-made fixture payload byte for byte")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(shared_dir() / "interop/cosign-real")) {
    if (!entry.is_directory()) {
      continue;
    }
    for (const auto& signature : read_dir_signatures(entry.path())) {
      if (signature.mime_type != k_simple_signing_media_type) {
        continue;
      }
      auto payload = parse_payload(signature.payload);
      REQUIRE_MESSAGE(payload, entry.path().string());
      CHECK(write_payload(payload->docker_reference, payload->manifest_digest, payload->optional) ==
            signature.payload);
      ++checked;
    }
  }
  CHECK(checked >= 10);
  auto rekor = read_shared("interop/cosign-real/rekor-payload");
  REQUIRE(rekor);
  auto payload = parse_payload(*rekor);
  REQUIRE(payload);
  CHECK(write_payload(payload->docker_reference, payload->manifest_digest) == *rekor);
}

TEST_CASE("payload shape")
{
  std::string text = write_payload("registry.example.com/ns/app:1.0", k_digest);
  CHECK(
      text ==
      R"({"critical":{"identity":{"docker-reference":"registry.example.com/ns/app:1.0"},)"
      R"("image":{"docker-manifest-digest":"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"},)"
      R"("type":"cosign container image signature"},"optional":null})");
  nlohmann::json optional = {{"team", "x"}, {"env", "prod"}};
  CHECK(write_payload("a/b:1", k_digest, optional).ends_with(R"("optional":{"env":"prod","team":"x"}})"));
}

TEST_CASE("the parser is strict like containers/image")
{
  std::string good = write_payload("registry.example.com/ns/app:1.0", k_digest);
  REQUIRE(parse_payload(good));
  auto bad = [](std::string text, const char* why) {
    auto r = parse_payload(text);
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().find(why) != std::string::npos, r.error());
  };
  std::string extra = good;
  extra.insert(extra.size() - 1, R"(,"x":1)");
  bad(extra, "unknown key \"x\"");
  std::string dup = good;
  dup.insert(1, R"("optional":null,)");
  bad(dup, "duplicate JSON key");
  std::string type = good;
  type.replace(type.find("cosign container"), 6, "atomic");
  bad(type, "payload type");
  bad(R"({"critical":{"identity":{"docker-reference":"a"},"image":{},"type":"cosign container image signature"},"optional":null})",
      "lacks \"docker-manifest-digest\"");
  std::string creator = good;
  creator.replace(creator.find(R"("optional":null)"), 15, R"("optional":{"creator":1})");
  bad(creator, "creator");
  std::string stamp = good;
  stamp.replace(stamp.find(R"("optional":null)"), 15, R"("optional":{"timestamp":1.5})");
  bad(stamp, "timestamp");
  bad("this is not a signature", "not valid JSON");
}

TEST_CASE("docker reference normalisation")
{
  auto r = normalise_reference("ubuntu:22.04");
  REQUIRE(r);
  CHECK(r->repository == "docker.io/library/ubuntu");
  CHECK(r->tag == "22.04");
  CHECK(normalise_reference("index.docker.io/library/ubuntu")->repository == "docker.io/library/ubuntu");
  CHECK(normalise_reference("localhost:5000/test")->repository == "localhost:5000/test");
  CHECK(normalise_reference("localhost:5000/test")->tag.empty());
  CHECK(normalise_reference("a/b@sha256:abc")->by_digest);
  CHECK_FALSE(normalise_reference("Upper/case"));
}

TEST_CASE("identity matching follows containers/image signedIdentity")
{
  const std::string repo = "192.168.64.2:5000/cosign-signed-single-sample";
  CHECK(match_identity(repo, repo, IdentityMatch::repository));
  CHECK(match_identity(repo, repo + ":latest", IdentityMatch::repository));
  CHECK_FALSE(match_identity(repo, "testing/manifest:notlatest", IdentityMatch::repository));
  // cosign writes repository-only identities: matchExact and the default reject them.
  CHECK_FALSE(match_identity(repo, repo, IdentityMatch::exact));
  CHECK_FALSE(match_identity(repo, repo + ":latest", IdentityMatch::repo_digest_or_exact));
  const std::string tagged = "192.168.64.2:5000/skopeo-signed:tag";
  CHECK(match_identity(tagged, tagged, IdentityMatch::exact));
  CHECK_FALSE(match_identity(tagged, "192.168.64.2:5000/skopeo-signed:othertag", IdentityMatch::exact));
  CHECK(match_identity(tagged, tagged, IdentityMatch::repo_digest_or_exact));
  CHECK(match_identity(tagged, "192.168.64.2:5000/skopeo-signed@sha256:" + std::string(64, 'a'),
                       IdentityMatch::repo_digest_or_exact));
  CHECK(match_identity("docker.io/library/busybox:1", "busybox:1", IdentityMatch::exact));
}
