#include "builder/stagegraph.hpp"

#include "base/error.hpp"
#include "base/strings.hpp"
#include "builder/diagnostic.hpp"

#include <fmt/core.h>

namespace kiln::builder {

namespace {

struct Reference
{
  std::optional<int> stage;
  std::optional<std::string> image;
};

// A --from value: all digits is a stage index; a stage name (any case) is
// that stage; anything else is an image reference resolved at build time.
Reference resolve(const Build& build, const Stage& stage, const Step& step, const std::string& value,
                  std::string_view what)
{
  auto refuse = [&](int target) {
    throw ParseError(step.source.file, SourcePos{step.source.line, step.source.column},
                     fmt::format("{}={} refers to stage {} which is {}", what, value, target,
                                 target == stage.index ? "the stage itself" : "a later stage"),
                     step.text);
  };
  if (value.empty()) {
    throw ParseError(step.source.file, SourcePos{step.source.line, step.source.column},
                     fmt::format("{} is empty", what), step.text);
  }
  if (value.find_first_not_of("0123456789") == std::string::npos) {
    auto index = parse_u64(value);
    if (!index || *index >= static_cast<uint64_t>(stage.index)) {
      if (index && *index < build.stages.size()) {
        refuse(static_cast<int>(*index));
      }
      throw ParseError(step.source.file, SourcePos{step.source.line, step.source.column},
                       fmt::format("{}={}: there is no stage {} before this one", what, value, value),
                       step.text);
    }
    return Reference{static_cast<int>(*index), std::nullopt};
  }
  int found = find_stage(build, value);
  if (found >= stage.index) {
    refuse(found);
  }
  if (found >= 0) {
    return Reference{found, std::nullopt};
  }
  return Reference{std::nullopt, value};
}

void mark_needed(Build& build, int index)
{
  Stage& stage = build.stages[static_cast<size_t>(index)];
  if (stage.needed) {
    return;
  }
  stage.needed = true;
  if (stage.base.kind == StageBase::Kind::stage) {
    mark_needed(build, stage.base.stage);
  }
  for (const auto& step : stage.steps) {
    if (step.from_stage) {
      mark_needed(build, *step.from_stage);
    }
    for (const auto& mount : step.mounts) {
      if (mount.from_stage) {
        mark_needed(build, *mount.from_stage);
      }
    }
  }
}

} // namespace

int find_stage(const Build& build, std::string_view name)
{
  std::string lower = to_lower(name);
  for (const auto& stage : build.stages) {
    if (!stage.name.empty() && stage.name == lower) {
      return stage.index;
    }
  }
  return -1;
}

void resolve_stage_graph(Build& build, const std::optional<std::string>& target)
{
  for (auto& stage : build.stages) {
    for (auto& step : stage.steps) {
      if (step.kind == StepKind::copy) {
        if (auto from = step.flag("from")) {
          Reference ref = resolve(build, stage, step, *from, "--from");
          step.from_stage = ref.stage;
          step.from_image = ref.image;
        }
      }
      for (auto& mount : step.mounts) {
        if (auto from = mount.get("from")) {
          mount.from_stage = resolve(build, stage, step, *from, "--mount from").stage;
        }
      }
    }
  }
  if (target) {
    build.target = find_stage(build, *target);
    if (build.target < 0) {
      throw kiln::Error(fmt::format("parse {}: target stage \"{}\" could not be found",
                                    build.stages.empty() ? std::string() : build.stages[0].source.file,
                                    *target));
    }
  } else {
    build.target = static_cast<int>(build.stages.size()) - 1;
  }
  // Stages are reachable only backwards (every reference points at an
  // earlier stage), so the recursion depth is bounded by the stage count.
  for (auto& stage : build.stages) {
    stage.needed = false;
  }
  mark_needed(build, build.target);
}

} // namespace kiln::builder
