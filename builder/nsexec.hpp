#pragma once

// Work that must see the build's files as the container does (owners as
// container ids, every mapped file readable) runs in a child inside a user
// namespace with the build's id map. What it produces streams back through
// a pipe, so the parent, which owns the content store, writes the blob: as
// root, container root is an unprivileged host id that could not.

#include <functional>
#include <string>

#include "builder/idmap.hpp"
#include "oci/sink.hpp"

namespace kiln::builder {

// Runs produce(sink) inside a user namespace with `map`; the bytes it writes
// arrive in `out`. Returns the text produce returned, or its error.
Result<std::string> stream_from_user_namespace(const IdMap& map,
                                               const std::function<Result<std::string>(oci::Sink&)>& produce,
                                               oci::Sink& out);

// Runs work inside a user namespace with `map` (no data stream).
Result<void> run_in_namespace(const IdMap& map, const std::function<Result<void>()>& work);

} // namespace kiln::builder
