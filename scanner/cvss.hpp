#pragma once

// CVSS v3.0/v3.1 base scores, computed from the vector string with the
// formulas of the CVSS v3.1 specification §7.1 (and its Roundup, Appendix A).
// No library on Debian does this; it is a dozen lines of arithmetic.

#include <optional>
#include <string_view>

namespace kiln::scanner {

// nullopt unless the text is a complete "CVSS:3.x/..." vector with every
// base metric given once (temporal and environmental metrics are ignored).
std::optional<double> cvss3_base_score(std::string_view vector);

} // namespace kiln::scanner
