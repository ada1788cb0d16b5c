// Differential tests of the three version comparators against the real
// implementations on this machine: dpkg itself (and python3-apt's apt_pkg for
// a larger batch), Debian's python3-packaging for PEP 440, and for SemVer a
// reference written here straight from the spec's precedence rules. Exits 77
// (skipped) with a message when an oracle is missing.

#define DOCTEST_CONFIG_IMPLEMENT
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "scanner/version.hpp"

#include <cstdio>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace kiln::scanner;

namespace {

const char* k_python = "/usr/bin/python3";

std::string run(const std::string& command)
{
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe, "popen " << command);
  char buffer[65536];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.append(buffer, n);
  }
  int status = pclose(pipe);
  REQUIRE_MESSAGE(status == 0, command << " exited with status " << status);
  return out;
}

std::vector<std::string> lines(const std::string& text)
{
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

int sign(int x)
{
  return x < 0 ? -1 : (x > 0 ? 1 : 0);
}

class Gen
{
public:
  explicit Gen(unsigned seed) : m_rng(seed) {}
  size_t below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(m_rng); }
  bool chance(int percent) { return below(100) < static_cast<size_t>(percent); }
  char pick(std::string_view chars) { return chars[below(chars.size())]; }
  std::string number()
  {
    return chance(15) ? "0" + std::to_string(below(30)) : std::to_string(below(chance(80) ? 12 : 3000));
  }

private:
  std::mt19937 m_rng;
};

std::string dpkg_part(Gen& g, size_t max_len)
{
  std::string s(1, g.pick("0123456789"));
  size_t len = g.below(max_len);
  for (size_t i = 0; i < len; ++i) {
    s.push_back(g.pick("0123456789.+~abcz"));
  }
  return s;
}

std::string dpkg_version(Gen& g)
{
  std::string v;
  if (g.chance(15)) {
    v = std::to_string(g.below(3)) + ":";
  }
  v += dpkg_part(g, 7);
  if (g.chance(50)) {
    v += "-" + dpkg_part(g, 5);
  }
  if (g.chance(3)) {
    // Malformed on purpose: dpkg must reject these (exit 2) and so must kiln.
    const char* broken[] = {"-", ":", " x", ""};
    v = g.chance(50) ? v + broken[g.below(4)] : std::string(":") + v;
  }
  return v;
}

std::pair<std::string, std::string> dpkg_pair(Gen& g)
{
  std::string a = dpkg_version(g);
  if (g.chance(20)) {
    const char* suffixes[] = {"~", "+b1", "~deb12u1", "+deb12u1", ".0", "a", "~~"};
    return {a, a + suffixes[g.below(7)]};
  }
  return {a, dpkg_version(g)};
}

std::string sep(Gen& g)
{
  return g.chance(50) ? std::string(1, g.pick("._-")) : "";
}

std::string cased(Gen& g, std::string word)
{
  for (char& c : word) {
    if (g.chance(20)) {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return word;
}

std::string pep440_version(Gen& g)
{
  std::string v;
  if (g.chance(5)) {
    v += " ";
  }
  if (g.chance(5)) {
    v += cased(g, "v");
  }
  if (g.chance(10)) {
    v += g.number() + "!";
  }
  size_t parts = 1 + g.below(4);
  for (size_t i = 0; i < parts; ++i) {
    v += (i ? "." : "") + g.number();
  }
  if (g.chance(35)) {
    const char* labels[] = {"a", "b", "c", "rc", "alpha", "beta", "pre", "preview"};
    v += sep(g) + cased(g, labels[g.below(8)]) + sep(g) + (g.chance(80) ? g.number() : "");
  }
  if (g.chance(25)) {
    if (g.chance(30)) {
      v += "-" + g.number();
    } else {
      const char* labels[] = {"post", "rev", "r"};
      v += sep(g) + cased(g, labels[g.below(3)]) + sep(g) + (g.chance(80) ? g.number() : "");
    }
  }
  if (g.chance(25)) {
    v += sep(g) + cased(g, "dev") + sep(g) + (g.chance(80) ? g.number() : "");
  }
  if (g.chance(20)) {
    v += "+";
    size_t segs = 1 + g.below(3);
    for (size_t i = 0; i < segs; ++i) {
      v += (i ? std::string(1, g.pick(".-_")) : "") +
           (g.chance(50) ? g.number() : cased(g, g.chance(50) ? "abc" : "deb12u"));
    }
  }
  if (g.chance(10)) {
    // Noise: a stray character somewhere, which often makes it invalid.
    v.insert(g.below(v.size() + 1), 1, g.pick("._-+!xv 0a"));
  }
  return v;
}

std::string semver_version(Gen& g)
{
  std::string v = g.number() + "." + g.number() + "." + g.number();
  if (g.chance(50)) {
    size_t ids = 1 + g.below(3);
    v += "-";
    for (size_t i = 0; i < ids; ++i) {
      const char* words[] = {"alpha", "beta", "rc", "r100", "r2", "R2", "x-y", "0a", "-"};
      v += (i ? "." : "") + (g.chance(50) ? g.number() : std::string(words[g.below(9)]));
    }
  }
  if (g.chance(10)) {
    v += "+build." + g.number();
  }
  if (g.chance(5)) {
    v.insert(g.below(v.size() + 1), 1, g.pick(".-+0a"));
  }
  return v;
}

// The SemVer 2.0.0 precedence rules (§9-§11), written independently of
// scanner/version_semver.cpp: a regex from semver.org's grammar and a
// comparison over (core numbers, has-no-prerelease, identifiers).
struct RefSemver
{
  unsigned long long core[3];
  std::vector<std::string> pre;
};

std::optional<RefSemver> ref_parse(std::string s)
{
  while (!s.empty() && s.front() == ' ') {
    s.erase(0, 1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.pop_back();
  }
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) {
    s.erase(0, 1);
  }
  static const std::regex re(
      R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) {
    return std::nullopt;
  }
  RefSemver v{};
  for (int i = 0; i < 3; ++i) {
    v.core[i] = std::stoull(m[i + 1].str());
  }
  if (m[4].matched) {
    for (auto id : kiln::split(m[4].str(), '.')) {
      v.pre.emplace_back(id);
    }
  }
  return v;
}

int ref_compare(const RefSemver& a, const RefSemver& b)
{
  for (int i = 0; i < 3; ++i) {
    if (a.core[i] != b.core[i]) {
      return a.core[i] < b.core[i] ? -1 : 1;
    }
  }
  if (a.pre.empty() || b.pre.empty()) {
    return a.pre.empty() == b.pre.empty() ? 0 : (a.pre.empty() ? 1 : -1);
  }
  auto is_num = [](const std::string& s) { return s.find_first_not_of("0123456789") == std::string::npos; };
  for (size_t i = 0;; ++i) {
    if (i == a.pre.size() || i == b.pre.size()) {
      return a.pre.size() == b.pre.size() ? 0 : (i == a.pre.size() ? -1 : 1);
    }
    bool na = is_num(a.pre[i]);
    bool nb = is_num(b.pre[i]);
    if (na && nb) {
      auto x = std::stoull(a.pre[i]);
      auto y = std::stoull(b.pre[i]);
      if (x != y) {
        return x < y ? -1 : 1;
      }
    } else if (na != nb) {
      return na ? -1 : 1;
    } else if (a.pre[i] != b.pre[i]) {
      return a.pre[i] < b.pre[i] ? -1 : 1;
    }
  }
}

std::filesystem::path scratch(const std::string& name)
{
  return std::filesystem::temp_directory_path() / (name + "-" + std::to_string(getpid()));
}

} // namespace

TEST_CASE("dpkg comparator agrees with dpkg --compare-versions")
{
  Gen g(20261127);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string input;
  for (int i = 0; i < 2500; ++i) {
    pairs.push_back(dpkg_pair(g));
    input += pairs.back().first + "\t" + pairs.back().second + "\n";
  }
  auto file = scratch("kiln-dpkg-pairs");
  REQUIRE(kiln::write_file_atomic(file, input, kiln::Durable::no));
  // One shell runs all the dpkg calls: "lt" first, then "eq" only if needed.
  auto out =
      lines(run("while IFS=\"$(printf '\\t')\" read -r a b; do "
                "dpkg --compare-versions \"$a\" lt \"$b\" 2>/dev/null; r=$?; "
                "if [ $r = 1 ]; then dpkg --compare-versions \"$a\" eq \"$b\" 2>/dev/null; r=$((10+$?)); fi; "
                "echo $r; done < " +
                file.string()));
  std::filesystem::remove(file);
  REQUIRE(out.size() == pairs.size());
  size_t compared = 0;
  size_t rejected = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [a, b] = pairs[i];
    auto ours = compare_versions(VersionScheme::dpkg, a, b);
    if (out[i] == "2" || out[i] == "12") {
      CHECK_MESSAGE(!ours, "dpkg rejects \"" << a << "\" vs \"" << b << "\" but kiln compares them");
      ++rejected;
      continue;
    }
    if (!ours) {
      continue; // dpkg only warns (e.g. a letter first); kiln is stricter on purpose
    }
    int theirs = out[i] == "0" ? -1 : (out[i] == "10" ? 0 : 1);
    CHECK_MESSAGE(sign(*ours) == theirs,
                  "\"" << a << "\" vs \"" << b << "\": kiln " << *ours << ", dpkg " << theirs);
    ++compared;
  }
  MESSAGE("dpkg: " << compared << " pairs compared, " << rejected << " rejected by both");
  CHECK(compared > 2000);
  CHECK(rejected > 10);
}

TEST_CASE("dpkg comparator agrees with apt_pkg on a larger batch")
{
  Gen g(7);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string input;
  while (pairs.size() < 20000) {
    auto pair = dpkg_pair(g);
    if (compare_versions(VersionScheme::dpkg, pair.first, pair.second)) {
      pairs.push_back(pair);
      input += pair.first + "\t" + pair.second + "\n";
    }
  }
  auto file = scratch("kiln-apt-pairs");
  REQUIRE(kiln::write_file_atomic(file, input, kiln::Durable::no));
  auto out = lines(run(std::string(k_python) +
                       " -c 'import sys, apt_pkg\napt_pkg.init_system()\nfor l in open(sys.argv[1]):\n"
                       " a, b = l.rstrip(\"\\n\").split(\"\\t\")\n r = apt_pkg.version_compare(a, b)\n"
                       " print((r > 0) - (r < 0))' " +
                       file.string()));
  std::filesystem::remove(file);
  REQUIRE(out.size() == pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    int ours = sign(*compare_versions(VersionScheme::dpkg, pairs[i].first, pairs[i].second));
    CHECK_MESSAGE(std::to_string(ours) == out[i],
                  "\"" << pairs[i].first << "\" vs \"" << pairs[i].second << "\"");
  }
}

TEST_CASE("PEP 440 comparator agrees with python3-packaging")
{
  Gen g(440);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string input;
  for (int i = 0; i < 8000; ++i) {
    std::string a = pep440_version(g);
    std::string b = g.chance(15) ? a + sep(g) + "0" : pep440_version(g);
    pairs.emplace_back(a, b);
    input += a + "\t" + b + "\n";
  }
  auto file = scratch("kiln-pep440-pairs");
  REQUIRE(kiln::write_file_atomic(file, input, kiln::Durable::no));
  // One process answers every pair: "I" for an invalid side, else the sign.
  auto out =
      lines(run(std::string(k_python) +
                " -c 'import sys\nfrom packaging.version import Version, InvalidVersion\n"
                "def p(s):\n try:\n  return Version(s)\n except InvalidVersion:\n  return None\n"
                "for l in open(sys.argv[1]):\n a, b = l.rstrip(\"\\n\").split(\"\\t\")\n x, y = p(a), p(b)\n"
                " print(\"%s %s %s\" % (x is not None, y is not None, \"I\" if x is None or y is None else "
                "(x > y) - (x < y)))' " +
                file.string()));
  std::filesystem::remove(file);
  REQUIRE(out.size() == pairs.size());
  size_t compared = 0;
  size_t invalid = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [a, b] = pairs[i];
    auto words = kiln::split(out[i], ' ');
    REQUIRE(words.size() == 3);
    bool a_ok = Pep440Version::parse(a).has_value();
    bool b_ok = Pep440Version::parse(b).has_value();
    CHECK_MESSAGE(a_ok == (words[0] == "True"), "validity of \"" << a << "\"");
    CHECK_MESSAGE(b_ok == (words[1] == "True"), "validity of \"" << b << "\"");
    invalid += !a_ok + !b_ok;
    if (words[2] == "I" || !a_ok || !b_ok) {
      continue;
    }
    int ours = sign(*compare_versions(VersionScheme::pep440, a, b));
    CHECK_MESSAGE(std::to_string(ours) == words[2], "\"" << a << "\" vs \"" << b << "\"");
    ++compared;
  }
  MESSAGE("PEP 440: " << compared << " pairs compared, " << invalid << " invalid strings agreed on");
  CHECK(compared > 5000);
  CHECK(invalid > 100);
}

TEST_CASE("SemVer comparator agrees with a reference from the spec's rules")
{
  Gen g(2);
  size_t compared = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string a = semver_version(g);
    std::string b = g.chance(10) ? a : semver_version(g);
    auto ra = ref_parse(a);
    auto rb = ref_parse(b);
    CHECK_MESSAGE(SemVersion::parse(a).has_value() == ra.has_value(), "validity of \"" << a << "\"");
    if (!ra || !rb) {
      continue;
    }
    auto ours = compare_versions(VersionScheme::semver, a, b);
    REQUIRE(ours);
    CHECK_MESSAGE(sign(*ours) == ref_compare(*ra, *rb), "\"" << a << "\" vs \"" << b << "\"");
    ++compared;
  }
  CHECK(compared > 5000);
}

int main(int argc, char** argv)
{
  if (access("/usr/bin/dpkg", X_OK) != 0) {
    std::puts("SKIP: dpkg is not installed");
    return 77;
  }
  if (std::system("/usr/bin/python3 -c 'import apt_pkg, packaging.version' 2>/dev/null") != 0) {
    std::puts("SKIP: /usr/bin/python3 lacks python3-apt or python3-packaging (scripts/install-deps.sh "
              "installs them)");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
