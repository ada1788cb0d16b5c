#include "builder/parser.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"
#include "base/strings.hpp"
#include "builder/diagnostic.hpp"
#include "builder/flags.hpp"
#include "builder/instruction.hpp"
#include "builder/lexer.hpp"
#include "builder/stagegraph.hpp"

#include <fmt/core.h>

namespace kiln::builder {

namespace {

bool valid_stage_name(std::string_view name)
{
  if (name.empty() || name[0] < 'a' || name[0] > 'z') {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

class BuildParser
{
public:
  BuildParser(const ParseOptions& options, Diagnostics& diagnostics, char escape)
      : m_options(options), m_ctx(options, diagnostics, escape)
  {
    m_build.escape = escape;
    // FROM lines see the global ARGs and the automatic platform args.
    m_global_lookup = [this](std::string_view name) -> std::optional<std::string> {
      for (auto it = m_ctx.global_args.rbegin(); it != m_ctx.global_args.rend(); ++it) {
        if (it->key == name) {
          return it->value;
        }
      }
      for (const auto& [k, v] : m_ctx.automatic) {
        if (k == name) {
          return v;
        }
      }
      return std::nullopt;
    };
  }

  Build run(const Lexed& lexed)
  {
    if (lexed.lines.empty()) {
      m_ctx.error(SourcePos{1, 1}, "the Containerfile has no instructions", "");
    }
    for (const auto& line : lexed.lines) {
      Head head = split_head(line);
      SourcePos at = line.at(head.keyword_offset);
      if (!is_known_instruction(head.keyword)) {
        std::string_view word = std::string_view(line.text).substr(head.keyword_offset, head.keyword.size());
        m_ctx.error(at, fmt::format("unknown instruction {}", excerpt(word)), line.text);
      }
      if (head.keyword == "from") {
        from(line, head);
        continue;
      }
      if (m_build.stages.empty()) {
        if (head.keyword != "arg") {
          m_ctx.error(at, "no build stage in current context: only ARG may come before the first FROM",
                      line.text);
        }
        for (auto& pair : parse_arg_pairs(line, head, m_ctx, m_global_lookup)) {
          m_ctx.global_args.push_back(std::move(pair));
        }
        continue;
      }
      Stage& stage = m_build.stages.back();
      Step step = parse_step(line, head, m_ctx, m_scopes.back());
      note_repeats(stage, step);
      stage.steps.push_back(std::move(step));
    }
    if (m_build.stages.empty()) {
      m_ctx.error(lexed.lines.back().at(0), "no FROM instruction: the Containerfile has no build stage", "");
    }
    resolve_stage_graph(m_build, m_options.target);
    m_build.global_args = m_ctx.global_args;
    for (const auto& name : m_ctx.unconsumed_build_args()) {
      m_ctx.diagnostics.add(Severity::warning, SourcePos{},
                            fmt::format("build-arg {} was not consumed by any ARG", name));
    }
    for (const auto& [k, v] : m_options.build_args) {
      if (is_proxy_arg(k)) {
        m_build.proxy_args.push_back(KeyValue{k, v});
      }
    }
    return std::move(m_build);
  }

private:
  void from(const LogicalLine& line, const Head& head)
  {
    Stage stage;
    stage.index = static_cast<int>(m_build.stages.size());
    SourcePos at = line.at(head.keyword_offset);
    stage.source = SourceRange{m_ctx.file(), at.line, at.column, line.last_line};
    for (const auto& raw : check_flags(line, head, m_ctx)) {
      stage.platform = m_ctx.expand(raw.value, line.at(raw.offset), m_global_lookup);
      if (!Platform::parse(*stage.platform)) {
        m_ctx.error(line.at(raw.offset),
                    fmt::format("invalid platform \"{}\" (OS/ARCH[/VARIANT])", *stage.platform),
                    "--platform=" + raw.value);
      }
    }
    auto fields = split_fields(head.rest);
    if (fields.size() != 1 && !(fields.size() == 3 && to_lower(fields[1].text) == "as")) {
      m_ctx.error(at, "FROM requires either one or three arguments (IMAGE [AS NAME])", line.text);
    }
    SourcePos image_pos = line.at(head.rest_offset + fields[0].offset);
    std::string image = m_ctx.expand(fields[0].text, image_pos, m_global_lookup);
    if (image.empty()) {
      m_ctx.error(image_pos,
                  fmt::format("base name ({}) should not be blank after expansion", fields[0].text),
                  line.text);
    }
    if (fields.size() == 3) {
      SourcePos name_pos = line.at(head.rest_offset + fields[2].offset);
      stage.name = to_lower(fields[2].text);
      if (!valid_stage_name(stage.name)) {
        m_ctx.error(name_pos,
                    fmt::format("invalid name for build stage \"{}\": a name starts with a letter and holds "
                                "only letters, digits, '-', '_' and '.'",
                                fields[2].text),
                    line.text);
      }
      if (find_stage(m_build, stage.name) >= 0) {
        m_ctx.error(name_pos, fmt::format("duplicate stage name \"{}\"", stage.name), line.text);
      }
    }
    Scope scope;
    int parent = find_stage(m_build, image);
    if (parent >= 0) {
      stage.base = StageBase{StageBase::Kind::stage, {}, parent};
      scope.set_all_env(m_scopes[static_cast<size_t>(parent)].env());
    } else if (image == "scratch") {
      stage.base = StageBase{StageBase::Kind::scratch, {}, -1};
    } else {
      stage.base = StageBase{StageBase::Kind::image, image, -1};
      if (m_options.base_env) {
        if (auto env = m_options.base_env(image)) {
          scope.set_all_env(std::move(*env));
        }
      }
    }
    m_build.stages.push_back(std::move(stage));
    m_scopes.push_back(std::move(scope));
  }

  // Only the last CMD, ENTRYPOINT or HEALTHCHECK of a stage takes effect;
  // an ENTRYPOINT resets the CMD inherited from the base unless this stage
  // already set one.
  void note_repeats(const Stage& stage, Step& step)
  {
    if (step.kind != StepKind::cmd && step.kind != StepKind::entrypoint &&
        step.kind != StepKind::healthcheck) {
      return;
    }
    bool cmd_before = false;
    bool same_before = false;
    for (const auto& earlier : stage.steps) {
      cmd_before = cmd_before || earlier.kind == StepKind::cmd;
      same_before = same_before || earlier.kind == step.kind;
    }
    if (step.kind == StepKind::entrypoint) {
      step.resets_cmd = !cmd_before;
    }
    if (same_before) {
      m_ctx.diagnostics.add(Severity::warning, SourcePos{step.source.line, step.source.column},
                            fmt::format("several {} instructions in stage {}: only the last one takes effect",
                                        step.instruction, stage.index));
    }
  }

  const ParseOptions& m_options;
  ParseContext m_ctx;
  Build m_build;
  std::vector<Scope> m_scopes; // one per stage, its ENV as the stage ends
  Lookup m_global_lookup;
};

} // namespace

Build parse(std::string_view text, const ParseOptions& options)
{
  Diagnostics diagnostics(options.file);
  Lexed lexed = lex(text, diagnostics);
  BuildParser parser(options, diagnostics, lexed.escape);
  Build build = parser.run(lexed);
  build.diagnostics = diagnostics.take();
  return build;
}

Build parse_file(const std::filesystem::path& path, const ParseOptions& options)
{
  auto text = read_file(path);
  if (!text) {
    throw kiln::Error(fmt::format("parse {}: {}", path.string(), text.error()));
  }
  return parse(*text, options);
}

} // namespace kiln::builder
