#pragma once

// `kiln build --check-reproducible`: the first difference between two
// builds of the same Containerfile, as a user needs it to find the cause:
// the layer (by its step) and the file inside it, else the config field.

#include <string>

#include "oci/image.hpp"
#include "oci/layout.hpp"

namespace kiln::builder {

// "" when both manifests are the same; else one line naming what differs.
Result<std::string> compare_builds(const oci::Layout& first, const oci::Descriptor& first_manifest,
                                   const oci::Layout& second, const oci::Descriptor& second_manifest,
                                   const oci::Platform& platform);

} // namespace kiln::builder
