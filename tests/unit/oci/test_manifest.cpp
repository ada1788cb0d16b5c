#include <doctest/doctest.h>

#include "oci/config.hpp"
#include "oci/manifest.hpp"
#include "oci/mediatype.hpp"

using namespace kiln::oci;

namespace {
const std::string k_empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}

TEST_CASE("manifest round-trip keeps unknown fields and is deterministic")
{
  std::string input = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + k_empty
                      + R"(","size":0,"x-extra":{"a":1}},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + k_empty
                      + R"(","size":0,"annotations":{"k":"v"}}],
    "annotations":{"b":"2","a":"1"},"x-vendor":[1,2,3]})";
  auto m = ImageManifest::parse(input);
  REQUIRE(m);
  CHECK(m->layers.size() == 1);
  CHECK(m->layers[0].annotations.at("k") == "v");
  std::string out = m->serialize();
  CHECK(out.find(R"("x-vendor":[1,2,3])") != std::string::npos);
  CHECK(out.find(R"("x-extra":{"a":1})") != std::string::npos);
  auto again = ImageManifest::parse(out);
  REQUIRE(again);
  CHECK(again->serialize() == out);
}

TEST_CASE("manifest parse errors name the field")
{
  auto bad = ImageManifest::parse(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":"md5:00","size":1},"layers":[]})");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("config.digest") != std::string::npos);
  auto truncated = ImageManifest::parse(R"({"schemaVersion":2,"config":)");
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().find("invalid JSON") != std::string::npos);
  auto negative = ImageManifest::parse(R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + k_empty
                                        + R"(","size":-1},"layers":[]})");
  REQUIRE_FALSE(negative);
  CHECK(negative.error().find("size") != std::string::npos);
  CHECK_FALSE(ImageManifest::parse(R"({"schemaVersion":1,"config":{},"layers":[]})"));
}

TEST_CASE("Docker schema 2 manifests are read and written back as they came")
{
  std::string input = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")"
                      + k_empty + R"(","size":0},"layers":[]})";
  auto m = ImageManifest::parse(input);
  REQUIRE(m);
  CHECK(m->media_type == mediatype::k_docker_manifest);
  CHECK(sniff_manifest(input).value() == ManifestKind::manifest);
  CHECK(sniff_manifest(R"({"schemaVersion":2,"manifests":[]})").value() == ManifestKind::index);
}

TEST_CASE("index round-trip with platforms")
{
  std::string input = R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")"
                      + k_empty
                      + R"(","size":0,"platform":{"architecture":"arm64","os":"linux","variant":"v8","x":1}}]})";
  auto index = ImageIndex::parse(input);
  REQUIRE(index);
  REQUIRE(index->manifests[0].platform);
  CHECK(index->manifests[0].platform->str() == "linux/arm64/v8");
  CHECK(index->serialize().find(R"("x":1)") != std::string::npos);
}

TEST_CASE("config round-trip keeps unknown fields and typed fields")
{
  std::string input = R"({"architecture":"amd64","os":"linux","created":"2024-01-01T00:00:00Z",
    "config":{"Env":["PATH=/usr/bin","A=1"],"Entrypoint":["/bin/app"],"Cmd":null,"ExposedPorts":{"80/tcp":{}},
      "Labels":{"l":"v"},"Healthcheck":{"Test":["CMD","true"]},"ArgsEscaped":true},
    "rootfs":{"type":"layers","diff_ids":[")" + k_empty + R"("]},
    "history":[{"created_by":"x","empty_layer":true,"custom":1}],"moby.buildkit":"kept"})";
  auto c = ImageConfig::parse(input);
  REQUIRE(c);
  CHECK(c->config.env_value("A") == std::optional<std::string>("1"));
  CHECK(c->config.entrypoint.value() == std::vector<std::string>{"/bin/app"});
  CHECK_FALSE(c->config.cmd.has_value());
  c->config.set_env("A", "2");
  CHECK(c->config.env[1] == "A=2");
  std::string out = c->serialize();
  CHECK(out.find(R"("moby.buildkit":"kept")") != std::string::npos);
  CHECK(out.find(R"("ArgsEscaped":true)") != std::string::npos);
  CHECK(out.find(R"("custom":1)") != std::string::npos);
  CHECK(out.find(R"("Healthcheck":{"Test":["CMD","true"]})") != std::string::npos);
  auto again = ImageConfig::parse(out);
  REQUIRE(again);
  CHECK(again->serialize() == out);
}

TEST_CASE("config without rootfs is refused")
{
  auto c = ImageConfig::parse(R"({"architecture":"amd64","os":"linux"})");
  REQUIRE_FALSE(c);
  CHECK(c.error().find("rootfs") != std::string::npos);
}
