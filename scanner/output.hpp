#pragma once

// Renderings of a scan report: a table for people, kiln's JSON, SARIF 2.1.0
// for code scanning, CycloneDX 1.5 and SPDX 2.3 SBOMs, and the cosign vuln
// predicate (specs/scanning.md §6, specs/signing.md §4.4).

#include "scanner/report.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kiln::scanner {

enum class Format { table, json, sarif, cyclonedx, spdx, cosign_vuln };

std::optional<Format> parse_format(std::string_view name);

// The whole document, ending in a newline.
std::string render(const Report& report, Format format);

std::string to_table(const Report& report);
nlohmann::json to_json(const Report& report); // schema "kiln.scan/v1"
nlohmann::json to_sarif(const Report& report);
nlohmann::json to_cyclonedx(const Report& report);
nlohmann::json to_spdx(const Report& report);
nlohmann::json to_cosign_vuln(const Report& report); // the predicate only

inline constexpr std::string_view k_cosign_vuln_type = "https://cosign.sigstore.dev/attestation/vuln/v1";

// A random RFC 4122 version 4 UUID, lower-case.
std::string random_uuid();

// "UNKNOWN" → "unknown"; used by several formats.
std::string lower_severity(Severity severity);

// "Upgrade NAME to X" or "No fix available".
std::string recommendation(const Report& report, const Finding& finding);

} // namespace kiln::scanner
