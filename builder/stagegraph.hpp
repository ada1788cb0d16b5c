#pragma once

// The stage graph: COPY --from and RUN --mount from= resolved to a stage
// (by name or index) or, naming no stage, to an image; the target chosen
// (--target, else the last stage); the stages the target does not need
// marked so the engine skips them.

#include "builder/model.hpp"

#include <optional>
#include <string>

namespace kiln::builder {

// Index of the stage named name (case-insensitive), or -1.
int find_stage(const Build& build, std::string_view name);

// Throws ParseError for a --from pointing at its own or a later stage, and
// kiln::Error for a --target naming no stage.
void resolve_stage_graph(Build& build, const std::optional<std::string>& target);

} // namespace kiln::builder
