#include "builder/model.hpp"

#include <fmt/core.h>

namespace kiln::builder {

std::string_view kind_name(StepKind kind)
{
  switch (kind) {
  case StepKind::run:
    return "RUN";
  case StepKind::copy:
    return "COPY";
  case StepKind::add:
    return "ADD";
  case StepKind::env:
    return "ENV";
  case StepKind::arg:
    return "ARG";
  case StepKind::workdir:
    return "WORKDIR";
  case StepKind::user:
    return "USER";
  case StepKind::label:
    return "LABEL";
  case StepKind::expose:
    return "EXPOSE";
  case StepKind::volume:
    return "VOLUME";
  case StepKind::entrypoint:
    return "ENTRYPOINT";
  case StepKind::cmd:
    return "CMD";
  case StepKind::shell:
    return "SHELL";
  case StepKind::stopsignal:
    return "STOPSIGNAL";
  case StepKind::healthcheck:
    return "HEALTHCHECK";
  case StepKind::onbuild:
    return "ONBUILD";
  }
  return "?";
}

std::string_view form_name(Form form)
{
  switch (form) {
  case Form::none:
    return "none";
  case Form::shell:
    return "shell";
  case Form::exec:
    return "exec";
  }
  return "?";
}

std::optional<std::string> Mount::get(std::string_view key) const
{
  for (const auto& [k, v] : options) {
    if (k == key) {
      return v;
    }
  }
  return std::nullopt;
}

std::optional<std::string> Step::flag(std::string_view name) const
{
  for (const auto& f : flags) {
    if (f.name == name) {
      return f.value;
    }
  }
  return std::nullopt;
}

std::string Diagnostic::format() const
{
  std::string_view what = severity == Severity::note ? "note" : "warning";
  if (line == 0) {
    return fmt::format("{}: {}: {}", file, what, message);
  }
  return fmt::format("{}:{}:{}: {}: {}", file, line, column, what, message);
}

} // namespace kiln::builder
