#include "base/fileio.hpp"
#include "signer/policy.hpp"
#include "signer/statement.hpp"
#include "tests/unit/signer/memory_source.hpp"
#include "tests/unit/signer/shared.hpp"

#include <cstdlib>
#include <doctest/doctest.h>

using namespace kiln::signer;
using kiln::oci::Digest;
namespace fs = std::filesystem;

namespace {

struct PolicyDir
{
  kiln::TempDir dir{fs::temp_directory_path(), "kiln-policy-"};
  PrivateKey publisher = PrivateKey::generate_p256();
  PrivateKey other = PrivateKey::generate_p256();

  PolicyDir()
  {
    fs::create_directories(dir.path() / "keys");
    REQUIRE(kiln::write_file_atomic(dir.path() / "keys/publisher.pub", publisher.public_key().pem()));
  }

  kiln::Result<Policy> load(const std::string& text)
  {
    REQUIRE(kiln::write_file_atomic(dir.path() / "kiln.toml", text));
    return load_policy(dir.path() / "kiln.toml");
  }
};

const std::string k_policy = R"(
[[trust]]
scope = "*"
require = "reject"

[[trust]]
scope = "oci:/srv/bases"
require = "signed"
keys = ["keys/publisher.pub"]

[[trust]]
scope = "registry.example.com"
require = "insecure-accept-anything"

[[trust]]
scope = "registry.example.com/distroless"
require = "signed"
keys = ["keys/publisher.pub"]
attestations = ["vuln"]
)";

} // namespace

TEST_CASE("the most specific scope wins")
{
  PolicyDir p;
  auto policy = p.load(k_policy);
  REQUIRE_MESSAGE(policy, policy.error());
  REQUIRE(policy->rules.size() == 4);
  CHECK(policy->rules[1].key_paths.front() == (p.dir.path() / "keys/publisher.pub").string());
  auto scope = [&](const char* ref) {
    const TrustRule* rule = match_scope(*policy, ref);
    return rule == nullptr ? std::string("(none)") : rule->scope;
  };
  CHECK(scope("oci:/srv/bases:debian") == "oci:/srv/bases");
  CHECK(scope("oci:/srv/bases/sub:x") == "oci:/srv/bases");
  CHECK(scope("oci:/srv/basesx:debian") == "*");
  CHECK(scope("registry.example.com/distroless/static:nonroot") == "registry.example.com/distroless");
  CHECK(scope("docker://registry.example.com/distroless/static:nonroot") ==
        "registry.example.com/distroless");
  CHECK(scope("registry.example.com/other:1") == "registry.example.com");
  CHECK(scope("registry.example.com/distrolessx:1") == "registry.example.com");
  CHECK(scope("ubuntu:22.04") == "*");
}

TEST_CASE("check_image: signed, unsigned, other key, re-tagged, reject and insecure")
{
  PolicyDir p;
  auto policy = p.load(k_policy);
  REQUIRE(policy);
  Digest image = Digest::of("manifest of debian");
  Digest moved = Digest::of("manifest of something else");

  MemorySource empty;
  auto unsigned_decision = check_image(*policy, "oci:/srv/bases:debian", image, empty, 0);
  CHECK_FALSE(unsigned_decision.accepted());
  CHECK(unsigned_decision.scope == "oci:/srv/bases");
  CHECK(unsigned_decision.reason.find("has none") != std::string::npos);

  MemorySource good;
  good.sign(p.publisher, image, "registry.example.com/debian:12", image);
  auto ok = check_image(*policy, "oci:/srv/bases:debian", image, good, 0);
  CHECK_MESSAGE(ok.accepted(), ok.reason);
  CHECK(ok.reason.find(p.publisher.public_key().describe()) != std::string::npos);

  MemorySource foreign;
  foreign.sign(p.other, image, "registry.example.com/debian:12", image);
  auto bad = check_image(*policy, "oci:/srv/bases:debian", image, foreign, 0);
  CHECK_FALSE(bad.accepted());
  CHECK(bad.reason.find("does not verify") != std::string::npos);

  // The tag now points at another manifest; the old signature was copied along.
  MemorySource retagged;
  retagged.sign(p.publisher, moved, "registry.example.com/debian:12", image);
  auto moved_decision = check_image(*policy, "oci:/srv/bases:debian", moved, retagged, 0);
  CHECK_FALSE(moved_decision.accepted());
  CHECK(moved_decision.reason.find("payload is for") != std::string::npos);

  CHECK_FALSE(check_image(*policy, "ubuntu:22.04", image, good, 0).accepted());
  CHECK(check_image(*policy, "registry.example.com/other:1", image, empty, 0).accepted());
}

TEST_CASE("check_image: required attestations and the signed identity of registry images")
{
  PolicyDir p;
  auto policy = p.load(k_policy);
  REQUIRE(policy);
  Digest image = Digest::of("distroless");
  const std::string ref = "registry.example.com/distroless/static:nonroot";
  MemorySource source;
  source.sign(p.publisher, image, "registry.example.com/distroless/static:nonroot", image);
  auto no_att = check_image(*policy, ref, image, source, 0);
  CHECK_FALSE(no_att.accepted());
  CHECK(no_att.reason.find("a https://cosign.sigstore.dev/attestation/vuln/v1 attestation of") !=
        std::string::npos);

  auto predicate = nlohmann::ordered_json::parse(
      R"({"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},)"
      R"("scanner":{"uri":"pkg:generic/kiln@0.1.0","version":"0.1.0","db":{"uri":"","version":""},"result":{}},)"
      R"("metadata":{"scanStartedOn":"2024-01-01T00:00:00Z","scanFinishedOn":"2024-01-01T00:00:01Z"}})");
  std::string statement = write_statement("registry.example.com/distroless/static", image,
                                          std::string(k_vuln_predicate), predicate);
  source.attest(p.publisher, image, statement, std::string(k_vuln_predicate));
  auto with_att = check_image(*policy, ref, image, source, 0);
  CHECK_MESSAGE(with_att.accepted(), with_att.reason);
  CHECK(with_att.attestations == std::vector<std::string>{std::string(k_vuln_predicate)});

  // A signature for another repository is not a signature for this one.
  MemorySource elsewhere;
  elsewhere.sign(p.publisher, image, "registry.example.com/other/static:nonroot", image);
  elsewhere.attest(p.publisher, image, statement, std::string(k_vuln_predicate));
  CHECK_FALSE(check_image(*policy, ref, image, elsewhere, 0).accepted());
}

TEST_CASE("policy errors name the file, the entry and the cause")
{
  PolicyDir p;
  auto check = [&](const std::string& text, const char* expected) {
    auto r = p.load(text);
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().find(expected) != std::string::npos, r.error());
  };
  check("[[trust]]\nscope = \"*\"\nrequire = \"signed\"\nkeys = [\"missing.pub\"]\n", "missing.pub");
  check("[[trust]]\nscope = \"*\"\nrequire = \"maybe\"\n", "\"require\" is \"maybe\"");
  check("[[trust]]\nscope = \"*\"\nrequire = \"signed\"\n", "needs \"keys\"");
  check("[[trust]]\nscope = \"*\"\nrequire = \"reject\"\nkey = [\"x\"]\n", "unknown key \"key\"");
  check("[[trust]]\nrequire = \"reject\"\n", "\"scope\" is missing");
  check("[[trust]\n", "kiln.toml\":1");
  check("[[trust]]\nscope = \"*\"\nrequire = \"signed\"\nidentity = \"a@b\"\n", "trusted_root");
  auto empty = p.load("[build]\njobs = 2\n");
  REQUIRE(empty);
  CHECK(empty->rules.empty());
}

TEST_CASE("policy lookup order")
{
  PolicyDir p;
  REQUIRE(kiln::write_file_atomic(p.dir.path() / "kiln.toml", "# empty\n"));
  auto explicit_path = find_policy(p.dir.path() / "kiln.toml");
  REQUIRE(explicit_path);
  CHECK(**explicit_path == p.dir.path() / "kiln.toml");
  CHECK_FALSE(find_policy(p.dir.path() / "absent.toml"));

  fs::path cwd = fs::current_path();
  fs::current_path(p.dir.path());
  setenv("KILN_POLICY", (p.dir.path() / "absent.toml").c_str(), 1);
  CHECK_FALSE(find_policy(std::nullopt));
  unsetenv("KILN_POLICY");
  auto local = find_policy(std::nullopt);
  REQUIRE(local);
  CHECK(**local == "kiln.toml");
  fs::remove(p.dir.path() / "kiln.toml");
  fs::create_directories(p.dir.path() / "xdg/kiln");
  REQUIRE(kiln::write_file_atomic(p.dir.path() / "xdg/kiln/kiln.toml", "\n"));
  setenv("XDG_CONFIG_HOME", (p.dir.path() / "xdg").c_str(), 1);
  auto xdg = find_policy(std::nullopt);
  unsetenv("XDG_CONFIG_HOME");
  fs::current_path(cwd);
  REQUIRE(xdg);
  CHECK(**xdg == p.dir.path() / "xdg/kiln/kiln.toml");
}

TEST_CASE("a keyless rule accepts the cosign-real Fulcio signature and refuses another identity")
{
  if (!have_shared()) {
    MESSAGE("skipped: ../shared/interop/cosign-real is absent");
    return;
  }
  fs::path real = shared_dir() / "interop/cosign-real";
  auto manifest = kiln::read_file(real / "dir-img-cosign-fulcio-rekor-valid/manifest.json");
  REQUIRE(manifest);
  Digest image = Digest::of(*manifest);
  MemorySource source;
  for (const auto& s : read_dir_signatures(real / "dir-img-cosign-fulcio-rekor-valid")) {
    source.add(image, AttachmentKind::signatures,
               {s.mime_type, Digest::of(s.payload), s.payload.size(), s.annotations}, s.payload);
  }
  PolicyDir p;
  auto rule = [&](const std::string& identity) {
    return "[[trust]]\nscope = \"192.168.64.2:5000/cosign-signed\"\nrequire = \"signed\"\nidentity = \"" +
           identity + "\"\nissuer = \"https://github.com/login/oauth\"\nca_roots = \"" +
           (real / "fulcio_v1.crt.pem").string() + "\"\nrekor_keys = [\"" + (real / "rekor.pub").string() +
           "\"]\n";
  };
  const std::string ref = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1:latest";
  auto policy = p.load(rule("mitr@redhat.com"));
  REQUIRE_MESSAGE(policy, policy.error());
  auto decision = check_image(*policy, ref, image, source, 0);
  CHECK_MESSAGE(decision.accepted(), decision.reason);
  CHECK(decision.reason.find("mitr@redhat.com") != std::string::npos);
  auto other = p.load(rule("keyless@distroless.iam.gserviceaccount.com"));
  REQUIRE(other);
  CHECK_FALSE(check_image(*other, ref, image, source, 0).accepted());
}
