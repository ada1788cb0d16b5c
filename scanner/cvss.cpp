#include "scanner/cvss.hpp"

#include "base/strings.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

namespace kiln::scanner {

namespace {

// Roundup as CVSS v3.1 Appendix A defines it, immune to float noise.
double roundup(double x)
{
  auto i = static_cast<long long>(std::llround(x * 100000));
  if (i % 10000 == 0) {
    return static_cast<double>(i) / 100000.0;
  }
  return (std::floor(static_cast<double>(i) / 10000.0) + 1) / 10.0;
}

} // namespace

std::optional<double> cvss3_base_score(std::string_view vector)
{
  if (!vector.starts_with("CVSS:3.0/") && !vector.starts_with("CVSS:3.1/")) {
    return std::nullopt;
  }
  std::map<std::string, std::string, std::less<>> metrics;
  for (auto part : split(vector.substr(9), '/')) {
    auto colon = part.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    if (!metrics.emplace(std::string(part.substr(0, colon)), std::string(part.substr(colon + 1))).second) {
      return std::nullopt;
    }
  }
  auto get = [&](const char* key) -> std::string {
    auto it = metrics.find(key);
    return it == metrics.end() ? std::string() : it->second;
  };
  auto weight = [](const std::string& value, std::initializer_list<std::pair<const char*, double>> table) {
    for (const auto& [k, w] : table) {
      if (value == k) {
        return w;
      }
    }
    return -1.0;
  };
  std::string scope = get("S");
  if (scope != "U" && scope != "C") {
    return std::nullopt;
  }
  bool changed = scope == "C";
  double av = weight(get("AV"), {{"N", 0.85}, {"A", 0.62}, {"L", 0.55}, {"P", 0.2}});
  double ac = weight(get("AC"), {{"L", 0.77}, {"H", 0.44}});
  double ui = weight(get("UI"), {{"N", 0.85}, {"R", 0.62}});
  double pr = weight(get("PR"), {{"N", 0.85}, {"L", changed ? 0.68 : 0.62}, {"H", changed ? 0.5 : 0.27}});
  double c = weight(get("C"), {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  double i = weight(get("I"), {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  double a = weight(get("A"), {{"H", 0.56}, {"L", 0.22}, {"N", 0.0}});
  if (av < 0 || ac < 0 || ui < 0 || pr < 0 || c < 0 || i < 0 || a < 0) {
    return std::nullopt;
  }
  double iss = 1 - (1 - c) * (1 - i) * (1 - a);
  double impact = changed ? 7.52 * (iss - 0.029) - 3.25 * std::pow(iss - 0.02, 15) : 6.42 * iss;
  double exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) {
    return 0.0;
  }
  double base =
      changed ? std::min(1.08 * (impact + exploitability), 10.0) : std::min(impact + exploitability, 10.0);
  return roundup(base);
}

} // namespace kiln::scanner
