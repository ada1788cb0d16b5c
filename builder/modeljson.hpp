#pragma once

// The model as deterministic JSON, for `kiln parse --json`, tools and tests.
//
//   { "escape": "\\", "args": [[NAME, VALUE|null]...], "target": N,
//     "stages": [{ "index": N, "name"?: S, "from": {"image": S}|{"scratch": true}|{"stage": N},
//                  "platform"?: S, "needed": B, "at": "LINE:COL",
//                  "steps": [{ "at": "LINE:COL[-ENDLINE]", "kind": "RUN", "instruction"?: "MAINTAINER",
//                              "form"?: "shell"|"exec", "args"?: [S...], "pairs"?: [[K, V|null]...],
//                              "flags"?: {NAME: S|true|false|[S...]}, "mounts"?: [{K: V...}],
//                              "heredocs"?: [{"name", "content", "expand", "chomp", "fd"?}],
//                              "from_stage"?: N, "from_image"?: S, "resets_cmd"?: true }] }],
//     "proxy_args"?: [[K, V]...], "diagnostics"?: ["LINE:COL: warning: ..."] }
//
// Optional members appear only when they hold something.

#include "builder/model.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace kiln::builder {

nlohmann::ordered_json to_json(const Build& build);
// One step, as it appears in "steps" above.
nlohmann::ordered_json to_json(const Step& step);

} // namespace kiln::builder
