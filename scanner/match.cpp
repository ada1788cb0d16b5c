#include "scanner/match.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace kiln::scanner {

VersionScheme scheme_for(Ecosystem ecosystem)
{
  switch (ecosystem) {
  case Ecosystem::debian:
    return VersionScheme::dpkg;
  case Ecosystem::npm:
    return VersionScheme::semver;
  case Ecosystem::pypi:
  case Ecosystem::unsupported:
    break;
  }
  return VersionScheme::pep440;
}

bool applies(const Affected& affected, const Query& query)
{
  // A bare "Debian" record applies to every release; "Debian:11" never to 12.
  bool same_ecosystem = affected.ecosystem == query.ecosystem ||
                        (query.kind == Ecosystem::debian && affected.ecosystem == "Debian");
  return same_ecosystem && normalise_name(query.kind, affected.name) == query.name;
}

namespace {

struct Parsed
{
  EventKind kind;
  std::optional<Version> version; // empty for introduced "0" and limit "*"
  const std::string* text;
};

// Rank on equal versions: the end of one interval before the start of the
// next, so back-to-back ranges [a,b) [b,c) include b.
int rank(EventKind kind)
{
  return kind == EventKind::introduced ? 1 : 0;
}

bool before(const Parsed& a, const Parsed& b)
{
  if (!a.version || !b.version) {
    // Only introduced "0" lacks a version among sorted events: lowest of all.
    return !a.version && b.version;
  }
  int c = compare(*a.version, *b.version);
  return c != 0 ? c < 0 : rank(a.kind) < rank(b.kind);
}

struct RangeResult
{
  bool vulnerable = false;
  std::optional<Version> fixed_in;
  std::string fixed_text;
};

std::optional<RangeResult> evaluate(const Advisory& advisory, const Range& range, VersionScheme scheme,
                                    const Version& installed, std::vector<std::string>& warnings)
{
  std::vector<Parsed> events;
  std::vector<Parsed> limits;
  for (const auto& e : range.events) {
    Parsed p{e.kind, std::nullopt, &e.value};
    bool sentinel =
        (e.kind == EventKind::introduced && e.value == "0") || (e.kind == EventKind::limit && e.value == "*");
    if (!sentinel) {
      p.version = Version::parse(scheme, e.value);
      if (!p.version) {
        warnings.push_back(fmt::format("{}: range skipped: event \"{}\" is not a valid {} version",
                                       advisory.id, e.value, scheme_name(scheme)));
        return std::nullopt;
      }
    }
    (e.kind == EventKind::limit ? limits : events).push_back(std::move(p));
  }
  std::stable_sort(events.begin(), events.end(), before);
  RangeResult result;
  for (const auto& e : events) {
    switch (e.kind) {
    case EventKind::introduced:
      if (!e.version || compare(installed, *e.version) >= 0) {
        result.vulnerable = true;
      }
      break;
    case EventKind::fixed:
      if (compare(installed, *e.version) >= 0) {
        result.vulnerable = false;
      } else if (!result.fixed_in || compare(*e.version, *result.fixed_in) < 0) {
        result.fixed_in = e.version;
        result.fixed_text = *e.text;
      }
      break;
    case EventKind::last_affected:
      if (compare(installed, *e.version) > 0) {
        result.vulnerable = false;
      }
      break;
    case EventKind::limit:
      break;
    }
  }
  if (!limits.empty()) {
    bool below_a_limit = std::any_of(limits.begin(), limits.end(), [&](const Parsed& l) {
      return !l.version || compare(installed, *l.version) < 0;
    });
    if (!below_a_limit) {
      result.vulnerable = false;
    }
  }
  return result;
}

} // namespace

std::optional<Hit> match(const Advisory& advisory, const Query& query, std::vector<std::string>& warnings)
{
  if (advisory.withdrawn) {
    return std::nullopt;
  }
  Hit hit;
  std::optional<Version> lowest_fix;
  VersionScheme lowest_fix_scheme{};
  const VersionScheme list_scheme = scheme_for(query.kind);
  std::optional<Version> installed_list = Version::parse(list_scheme, query.version);
  for (const auto& affected : advisory.affected) {
    if (!applies(affected, query)) {
      continue;
    }
    bool this_hit = false;
    for (const auto& listed : affected.versions) {
      if (listed == query.version) {
        this_hit = true;
        break;
      }
      if (installed_list) {
        if (auto v = Version::parse(list_scheme, listed); v && compare(*v, *installed_list) == 0) {
          this_hit = true;
          break;
        }
      }
    }
    hit.via_versions |= this_hit;
    for (const auto& range : affected.ranges) {
      if (range.type != RangeType::ecosystem && range.type != RangeType::semver) {
        continue;
      }
      VersionScheme scheme = (range.type == RangeType::semver || query.kind == Ecosystem::npm)
                                 ? VersionScheme::semver
                                 : list_scheme;
      auto installed = scheme == list_scheme ? installed_list : Version::parse(scheme, query.version);
      if (!installed) {
        continue; // the caller reports an unparsable installed version once per package
      }
      auto result = evaluate(advisory, range, scheme, *installed, warnings);
      if (!result) {
        continue;
      }
      if (result->vulnerable) {
        hit.via_range = true;
        this_hit = true;
      }
      if (result->fixed_in &&
          (!lowest_fix || (lowest_fix_scheme == scheme && compare(*result->fixed_in, *lowest_fix) < 0))) {
        lowest_fix = result->fixed_in;
        lowest_fix_scheme = scheme;
        hit.fixed_in = result->fixed_text;
      }
    }
    if (this_hit && !hit.affected) {
      hit.affected = &affected;
    }
  }
  if (!hit.affected) {
    return std::nullopt;
  }
  return hit;
}

} // namespace kiln::scanner
