#pragma once

// Debian package versions, ordered as deb-version(7) and dpkg say.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::scanner {

struct DpkgVersion
{
  uint32_t epoch = 0;
  std::string upstream;
  std::string revision; // empty when the version has no '-'; compares equal to "0"

  // Accepts what dpkg accepts without complaint: an optional numeric epoch,
  // an upstream part that starts with a digit and uses [A-Za-z0-9.+~:-], and
  // a revision of [A-Za-z0-9.+~]. dpkg merely warns about the last three
  // rules, but a version breaking them is not one Debian ever ships, so the
  // scanner reports it instead of guessing an order.
  static std::optional<DpkgVersion> parse(std::string_view text);
};

// <0, 0 or >0, as `dpkg --compare-versions`.
int compare(const DpkgVersion& a, const DpkgVersion& b);

} // namespace kiln::scanner
