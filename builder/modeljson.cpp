#include "builder/modeljson.hpp"

#include "base/strings.hpp"
#include "builder/flags.hpp"

#include <fmt/core.h>

namespace kiln::builder {

namespace {

using Json = nlohmann::ordered_json;

Json pairs_json(const std::vector<KeyValue>& pairs)
{
  Json out = Json::array();
  for (const auto& pair : pairs) {
    out.push_back(Json::array({pair.key, pair.value ? Json(*pair.value) : Json(nullptr)}));
  }
  return out;
}

Json step_json_impl(const Step& step)
{
  Json j;
  j["at"] = step.source.end_line != step.source.line
                ? fmt::format("{}:{}-{}", step.source.line, step.source.column, step.source.end_line)
                : fmt::format("{}:{}", step.source.line, step.source.column);
  j["kind"] = kind_name(step.kind);
  if (step.instruction != kind_name(step.kind)) {
    j["instruction"] = step.instruction;
  }
  if (step.form != Form::none) {
    j["form"] = form_name(step.form);
  }
  if (!step.args.empty()) {
    j["args"] = step.args;
  }
  if (!step.pairs.empty()) {
    j["pairs"] = pairs_json(step.pairs);
  }
  if (!step.flags.empty()) {
    Json flags = Json::object();
    std::string keyword = to_lower(step.instruction);
    for (const auto& flag : step.flags) {
      if (flag.name == "exclude") {
        flags[flag.name].push_back(flag.value);
      } else if (is_boolean_flag(keyword, flag.name)) {
        flags[flag.name] = flag.value == "true";
      } else {
        flags[flag.name] = flag.value;
      }
    }
    j["flags"] = flags;
  }
  if (!step.mounts.empty()) {
    Json mounts = Json::array();
    for (const auto& mount : step.mounts) {
      Json m = Json::object();
      for (const auto& [k, v] : mount.options) {
        m[k] = v;
      }
      if (mount.from_stage) {
        m["from_stage"] = *mount.from_stage;
      }
      mounts.push_back(m);
    }
    j["mounts"] = mounts;
  }
  if (!step.heredocs.empty()) {
    Json docs = Json::array();
    for (const auto& doc : step.heredocs) {
      Json d;
      d["name"] = doc.name;
      d["content"] = doc.content;
      d["expand"] = doc.expand;
      d["chomp"] = doc.chomp;
      if (doc.fd != 0) {
        d["fd"] = doc.fd;
      }
      docs.push_back(d);
    }
    j["heredocs"] = docs;
  }
  if (step.from_stage) {
    j["from_stage"] = *step.from_stage;
  }
  if (step.from_image) {
    j["from_image"] = *step.from_image;
  }
  if (step.resets_cmd) {
    j["resets_cmd"] = true;
  }
  return j;
}

} // namespace

nlohmann::ordered_json to_json(const Build& build)
{
  Json j;
  j["escape"] = std::string(1, build.escape);
  j["args"] = pairs_json(build.global_args);
  j["target"] = build.target;
  Json stages = Json::array();
  for (const auto& stage : build.stages) {
    Json s;
    s["index"] = stage.index;
    if (!stage.name.empty()) {
      s["name"] = stage.name;
    }
    switch (stage.base.kind) {
    case StageBase::Kind::image:
      s["from"] = Json{{"image", stage.base.image}};
      break;
    case StageBase::Kind::scratch:
      s["from"] = Json{{"scratch", true}};
      break;
    case StageBase::Kind::stage:
      s["from"] = Json{{"stage", stage.base.stage}};
      break;
    }
    if (stage.platform) {
      s["platform"] = *stage.platform;
    }
    s["needed"] = stage.needed;
    s["at"] = fmt::format("{}:{}", stage.source.line, stage.source.column);
    Json steps = Json::array();
    for (const auto& step : stage.steps) {
      steps.push_back(step_json_impl(step));
    }
    s["steps"] = steps;
    stages.push_back(s);
  }
  j["stages"] = stages;
  if (!build.proxy_args.empty()) {
    j["proxy_args"] = pairs_json(build.proxy_args);
  }
  if (!build.diagnostics.empty()) {
    Json diags = Json::array();
    for (const auto& d : build.diagnostics) {
      diags.push_back(fmt::format("{}:{}: {}: {}", d.line, d.column,
                                  d.severity == Severity::note ? "note" : "warning", d.message));
    }
    j["diagnostics"] = diags;
  }
  return j;
}

nlohmann::ordered_json to_json(const Step& step)
{
  return step_json_impl(step);
}

} // namespace kiln::builder
