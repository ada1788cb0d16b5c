#pragma once

// The typed model of a Containerfile that builder::parse produces and the
// build engine consumes. Arguments are already expanded where Docker expands
// them (ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR,
// ARG, and the flags of every instruction); RUN, CMD, ENTRYPOINT, SHELL and
// HEALTHCHECK commands are kept as written because the shell expands them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

// Where a step came from: FILE:LINE:COLUMN of its first character, and the last
// physical line it spans (continuations and heredoc bodies included).
struct SourceRange
{
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  uint32_t end_line = 0;
};

enum class StepKind {
  run,
  copy,
  add,
  env,
  arg,
  workdir,
  user,
  label, // also MAINTAINER, recorded as the "maintainer" label
  expose,
  volume,
  entrypoint,
  cmd,
  shell,
  stopsignal,
  healthcheck,
  onbuild,
};

std::string_view kind_name(StepKind kind);

// Exec form came from a JSON array; shell form is a single command string.
enum class Form { none, shell, exec };

std::string_view form_name(Form form);

struct Heredoc
{
  std::string name;    // the delimiter, quotes removed
  std::string content; // body lines, each ending in "\n"; leading tabs gone for <<-
  bool expand = true;  // false when the delimiter was quoted
  bool chomp = false;  // <<-
  unsigned fd = 0;     // the N of N<<EOF; 0 when absent
};

// ENV, LABEL and ARG pairs. An ARG without a default has no value.
struct KeyValue
{
  std::string key;
  std::optional<std::string> value;
  bool operator==(const KeyValue&) const = default;
};

// A --flag of an instruction, value expanded. Boolean flags hold "true" or
// "false"; repeatable flags (--exclude) appear once per occurrence.
struct Flag
{
  std::string name;
  std::string value;
};

// A RUN --mount, options normalised (dst/destination -> target, src ->
// source, ro/readonly -> readonly=true, rw -> readonly=false).
struct Mount
{
  std::vector<std::pair<std::string, std::string>> options;
  std::optional<int> from_stage; // from= naming a stage, resolved to its index

  std::optional<std::string> get(std::string_view key) const;
};

struct Step
{
  StepKind kind = StepKind::run;
  std::string instruction; // as Docker names it, upper case ("MAINTAINER" for the label)
  Form form = Form::none;
  // RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK: the command (one string in shell form).
  // COPY/ADD: sources then destination. VOLUME: paths. EXPOSE: "PORT/proto",
  // ranges expanded. WORKDIR/USER/STOPSIGNAL: one value. ONBUILD: the trigger
  // as written. HEALTHCHECK NONE: ["NONE"].
  std::vector<std::string> args;
  std::vector<KeyValue> pairs; // ENV, LABEL, ARG
  std::vector<Flag> flags;
  std::vector<Mount> mounts; // RUN --mount
  std::vector<Heredoc> heredocs;
  std::optional<int> from_stage;         // COPY --from naming a stage (by name or index)
  std::optional<std::string> from_image; // COPY --from naming no stage: an image reference
  bool resets_cmd = false;               // ENTRYPOINT with no CMD before it in this stage
  std::string text;                      // the instruction as written, continuations joined
  SourceRange source;

  std::optional<std::string> flag(std::string_view name) const;
};

struct StageBase
{
  enum class Kind { image, scratch, stage };
  Kind kind = Kind::image;
  std::string image; // the expanded reference for Kind::image
  int stage = -1;    // the index for Kind::stage
};

struct Stage
{
  int index = 0;
  std::string name; // lower case; empty when the stage has no AS name
  StageBase base;
  std::optional<std::string> platform; // FROM --platform, expanded
  std::vector<Step> steps;
  bool needed = true; // false when --target does not depend on this stage
  SourceRange source;
};

enum class Severity { note, warning };

struct Diagnostic
{
  Severity severity = Severity::warning;
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;

  std::string format() const; // "FILE:LINE:COL: warning: message"
};

struct Build
{
  std::vector<KeyValue> global_args; // ARGs before the first FROM, as resolved
  std::vector<Stage> stages;
  int target = -1; // the stage built: --target, else the last one
  // Predefined proxy args given with --build-arg: the engine passes them to
  // RUN without recording them in the image history.
  std::vector<KeyValue> proxy_args;
  std::vector<Diagnostic> diagnostics; // notes and warnings, each once
  char escape = '\\';
};

} // namespace kiln::builder
