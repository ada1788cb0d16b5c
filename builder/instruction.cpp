#include "builder/instruction.hpp"

#include "base/strings.hpp"
#include "builder/flags.hpp"
#include "builder/shellword.hpp"
#include "oci/digest.hpp"

#include <fmt/core.h>
#include <set>

namespace kiln::builder {

namespace {

std::string upper(std::string_view s)
{
  std::string out(s);
  for (auto& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// Per-instruction parsing shares the line, its head and the stage scope.
class StepParser
{
public:
  StepParser(const LogicalLine& line, const Head& head, ParseContext& context, Scope& scope)
      : m_line(line), m_head(head), m_ctx(context), m_scope(scope)
  {
    m_step.instruction = upper(head.keyword);
    m_step.text = std::string(trim_blanks(line.text));
    m_step.source = SourceRange{context.file(), line.at(head.keyword_offset).line,
                                line.at(head.keyword_offset).column, line.last_line};
    m_lookup = [this](std::string_view name) { return m_scope.lookup(name); };
  }

  Step parse()
  {
    const std::string& k = m_head.keyword;
    m_flags = check_flags(m_line, m_head, m_ctx);
    if (k == "run") {
      run();
    } else if (k == "cmd" || k == "entrypoint") {
      m_step.kind = k == "cmd" ? StepKind::cmd : StepKind::entrypoint;
      command(m_head.rest, rest_pos());
    } else if (k == "shell") {
      shell();
    } else if (k == "copy" || k == "add") {
      copy(k == "copy" ? StepKind::copy : StepKind::add);
    } else if (k == "env" || k == "label") {
      pairs_step(k == "env" ? StepKind::env : StepKind::label);
    } else if (k == "maintainer") {
      maintainer();
    } else if (k == "arg") {
      m_step.kind = StepKind::arg;
      m_step.pairs = parse_arg_pairs(m_line, m_head, m_ctx, m_lookup);
      for (const auto& pair : m_step.pairs) {
        m_scope.set_arg(pair.key, pair.value);
      }
    } else if (k == "workdir" || k == "user" || k == "stopsignal") {
      m_step.kind = k == "workdir" ? StepKind::workdir : k == "user" ? StepKind::user : StepKind::stopsignal;
      one_value();
    } else if (k == "expose") {
      expose();
    } else if (k == "volume") {
      volume();
    } else if (k == "healthcheck") {
      healthcheck();
    } else if (k == "onbuild") {
      onbuild();
    } else {
      m_ctx.error(line_start(), fmt::format("unknown instruction {}", m_step.instruction), m_step.text);
    }
    return std::move(m_step);
  }

private:
  SourcePos line_start() const { return m_line.at(m_head.keyword_offset); }
  SourcePos rest_pos() const { return m_line.at(m_head.rest_offset); }
  SourcePos pos_of(const Piece& piece, size_t base) const { return m_line.at(base + piece.offset); }

  [[noreturn]] void fail_here(std::string reason) const
  {
    m_ctx.error(line_start(), std::move(reason), m_step.text);
  }

  std::string expand(std::string_view text, SourcePos pos) { return m_ctx.expand(text, pos, m_lookup); }

  // Flag values are expanded for the instructions whose arguments are.
  void take_flags(bool expand_values)
  {
    for (const auto& raw : m_flags) {
      std::string value = raw.value;
      if (expand_values && raw.type != FlagType::boolean) {
        value = expand(value, m_line.at(raw.offset));
      }
      m_step.flags.push_back(Flag{raw.name, value});
    }
  }

  void require_args()
  {
    if (m_head.rest.empty()) {
      fail_here(fmt::format("{} requires at least one argument", m_step.instruction));
    }
  }

  // RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD: exec form when the text is a JSON
  // array of strings, shell form otherwise (with a warning when it looked
  // like an attempt at JSON).
  void command(std::string_view text, SourcePos pos)
  {
    take_flags(false);
    if (trim_blanks(text).empty()) {
      // A bare CMD or ENTRYPOINT clears it, as in Docker; a bare RUN could
      // only fail when it runs, so it is refused here.
      if (m_step.kind == StepKind::cmd || m_step.kind == StepKind::entrypoint) {
        m_step.form = Form::shell;
        return;
      }
      fail_here(m_step.kind == StepKind::healthcheck
                    ? std::string("missing command after HEALTHCHECK CMD")
                    : fmt::format("{} requires at least one argument", m_step.instruction));
    }
    auto json = parse_json_array(text);
    if (!json) {
      m_ctx.error(pos, json.error(), text);
    }
    if (*json) {
      m_step.form = Form::exec;
      m_step.args = std::move(**json);
      return;
    }
    if (trim_blanks(text).front() == '[') {
      m_ctx.diagnostics.add(
          Severity::warning, pos,
          fmt::format("{} argument looks like JSON but is not valid JSON: run as shell form",
                      m_step.instruction));
    }
    m_step.form = Form::shell;
    m_step.args = {std::string(trim_blanks(text))};
  }

  void run()
  {
    m_step.kind = StepKind::run;
    command(m_head.rest, rest_pos());
    m_step.flags.clear();
    for (const auto& raw : m_flags) {
      SourcePos pos = m_line.at(raw.offset);
      std::string value = expand(raw.value, pos);
      if (raw.name == "mount") {
        m_step.mounts.push_back(parse_mount(value, pos, m_ctx));
        continue;
      }
      if (raw.name == "network" && value != "none" && value != "host" && value != "default") {
        m_ctx.error(pos, fmt::format("unsupported network mode \"{}\" (none, host or default)", value),
                    "--network=" + raw.value);
      }
      if (raw.name == "security" && value != "insecure" && value != "sandbox") {
        m_ctx.error(pos, fmt::format("unsupported security mode \"{}\" (insecure or sandbox)", value),
                    "--security=" + raw.value);
      }
      m_step.flags.push_back(Flag{raw.name, value});
    }
    m_step.heredocs = m_line.heredocs; // the shell expands RUN heredocs (unless quoted) at run time
  }

  void shell()
  {
    m_step.kind = StepKind::shell;
    require_args();
    auto json = parse_json_array(m_head.rest);
    if (!json) {
      m_ctx.error(rest_pos(), json.error(), m_head.rest);
    }
    if (!*json) {
      m_ctx.error(rest_pos(), "SHELL requires the arguments to be in JSON form", m_head.rest);
    }
    if ((*json)->empty()) {
      fail_here("SHELL requires at least one argument");
    }
    m_step.form = Form::exec;
    m_step.args = std::move(**json);
  }

  // JSON array or whitespace-separated fields, each expanded as one word.
  std::vector<std::string> expanded_list(Form& form)
  {
    std::vector<std::string> out;
    auto json = parse_json_array(m_head.rest);
    if (!json) {
      m_ctx.error(rest_pos(), json.error(), m_head.rest);
    }
    if (*json) {
      form = Form::exec;
      for (const auto& item : **json) {
        out.push_back(expand(item, rest_pos()));
      }
      return out;
    }
    form = Form::shell;
    for (const auto& piece : split_fields(m_head.rest)) {
      // A heredoc marker names an inline source, not a path: it stays as written.
      if (!m_line.heredocs.empty() && is_heredoc_word(piece.text)) {
        out.push_back(piece.text);
        continue;
      }
      out.push_back(expand(piece.text, pos_of(piece, m_head.rest_offset)));
    }
    return out;
  }

  void copy(StepKind kind)
  {
    m_step.kind = kind;
    take_flags(true);
    m_step.args = expanded_list(m_step.form);
    if (m_step.args.size() < 2) {
      fail_here(
          fmt::format("{} requires at least two arguments (sources and a destination)", m_step.instruction));
    }
    if (!m_line.heredocs.empty() && is_heredoc_word(m_step.args.back())) {
      fail_here(fmt::format("{} cannot accept a heredoc as a destination", m_step.instruction));
    }
    if (auto chmod = m_step.flag("chmod")) {
      bool octal =
          !chmod->empty() && chmod->size() <= 4 && chmod->find_first_not_of("01234567") == std::string::npos;
      if (!octal) {
        fail_here(fmt::format("invalid --chmod value \"{}\": expected octal mode such as 755", *chmod));
      }
    }
    if (auto checksum = m_step.flag("checksum")) {
      if (!oci::Digest::parse(*checksum)) {
        fail_here(fmt::format("invalid --checksum \"{}\": expected ALGORITHM:HEX", *checksum));
      }
    }
    // Heredoc sources are files written from the Containerfile; unless the
    // delimiter was quoted, their bodies are expanded like the arguments,
    // keeping quotes and escapes as written.
    for (auto doc : m_line.heredocs) {
      if (doc.expand) {
        ShellWord raw{m_ctx.escape, Quotes::keep, Escapes::keep, Unset::empty};
        auto body = raw.word(doc.content, m_lookup);
        if (!body) {
          fail_here(fmt::format("heredoc {}: {}", doc.name, body.error()));
        }
        doc.content = std::move(*body);
      }
      m_step.heredocs.push_back(std::move(doc));
    }
    size_t sources = m_step.args.size() - 1;
    const std::string& dest = m_step.args.back();
    if (sources > 1 && !dest.ends_with('/')) {
      fail_here(fmt::format("when using {} with more than one source, the destination must be a directory "
                            "and end with a /",
                            m_step.instruction));
    }
  }

  // "K=V K2=V2" (quote-aware) or the legacy "K V" with the rest of the line
  // as the value.
  std::vector<KeyValue> name_values(bool& legacy)
  {
    std::vector<KeyValue> out;
    auto words = split_quoted_words(m_head.rest, m_ctx.escape);
    if (words.empty()) {
      fail_here(fmt::format("{} requires at least one argument", m_step.instruction));
    }
    legacy = words[0].text.find('=') == std::string::npos;
    if (legacy) {
      std::string_view rest = m_head.rest;
      size_t key_end = 0;
      while (key_end < rest.size() && !is_blank(rest[key_end])) {
        ++key_end;
      }
      std::string_view value = trim_blanks(rest.substr(key_end));
      if (value.empty()) {
        fail_here(fmt::format("{} must have two arguments", m_step.instruction));
      }
      size_t value_offset = static_cast<size_t>(value.data() - m_line.text.data());
      out.push_back(
          KeyValue{expand(rest.substr(0, key_end), rest_pos()), expand(value, m_line.at(value_offset))});
      return out;
    }
    // Every value is expanded with the variables as they were before this
    // instruction: "ENV a=1 b=$a" gives b the old a.
    for (const auto& word : words) {
      size_t eq = word.text.find('=');
      SourcePos pos = pos_of(word, m_head.rest_offset);
      if (eq == std::string::npos) {
        m_ctx.error(pos,
                    fmt::format("syntax error: can't find = in \"{}\"; must be of the form: name=value",
                                excerpt(word.text)),
                    word.text);
      }
      out.push_back(KeyValue{expand(std::string_view(word.text).substr(0, eq), pos),
                             expand(std::string_view(word.text).substr(eq + 1), pos)});
    }
    return out;
  }

  // ENV and LABEL: pairs, a warning for the legacy form, no blank names.
  void pairs_step(StepKind kind)
  {
    m_step.kind = kind;
    bool legacy = false;
    m_step.pairs = name_values(legacy);
    if (legacy) {
      m_ctx.diagnostics.add(
          Severity::warning, line_start(),
          fmt::format("legacy \"{0} key value\" format; use \"{0} key=value\"", m_step.instruction));
    }
    for (const auto& pair : m_step.pairs) {
      if (pair.key.empty()) {
        fail_here(fmt::format("{} names can not be blank", m_step.instruction));
      }
    }
    if (kind == StepKind::env) {
      for (const auto& pair : m_step.pairs) {
        m_scope.set_env(pair.key, *pair.value);
      }
    }
  }

  void maintainer()
  {
    m_step.kind = StepKind::label;
    require_args();
    m_step.pairs = {KeyValue{"maintainer", std::string(m_head.rest)}};
    m_ctx.diagnostics.add(Severity::warning, line_start(),
                          "MAINTAINER is deprecated: recorded as LABEL maintainer=...");
  }

  void one_value()
  {
    take_flags(true);
    if (m_head.rest.empty()) {
      fail_here(fmt::format("{} requires exactly one argument", m_step.instruction));
    }
    m_step.args = {expand(m_head.rest, rest_pos())};
    if (m_step.kind != StepKind::user && m_step.args[0].empty()) {
      fail_here(fmt::format("{} is empty after expansion", m_step.instruction));
    }
  }

  void expose()
  {
    m_step.kind = StepKind::expose;
    require_args();
    std::set<std::string> seen;
    for (const auto& piece : split_fields(m_head.rest)) {
      SourcePos pos = pos_of(piece, m_head.rest_offset);
      std::string spec = expand(piece.text, pos);
      if (spec.empty()) {
        continue;
      }
      std::string_view s = spec;
      std::string proto = "tcp";
      if (size_t slash = s.find('/'); slash != std::string_view::npos) {
        proto = to_lower(s.substr(slash + 1));
        s = s.substr(0, slash);
      }
      if (proto != "tcp" && proto != "udp" && proto != "sctp") {
        m_ctx.error(pos, fmt::format("invalid protocol \"{}\" in EXPOSE (tcp, udp or sctp)", proto), spec);
      }
      size_t dash = s.find('-');
      auto first = parse_u64(s.substr(0, dash));
      auto last = dash == std::string_view::npos ? first : parse_u64(s.substr(dash + 1));
      if (!first || !last || *first > 65535 || *last > 65535 || *last < *first) {
        m_ctx.error(pos, fmt::format("invalid port \"{}\" in EXPOSE", spec), spec);
      }
      for (uint64_t port = *first; port <= *last; ++port) {
        std::string entry = fmt::format("{}/{}", port, proto);
        if (seen.insert(entry).second) {
          m_step.args.push_back(std::move(entry));
        }
      }
    }
  }

  void volume()
  {
    m_step.kind = StepKind::volume;
    require_args();
    m_step.args = expanded_list(m_step.form);
    for (const auto& path : m_step.args) {
      if (trim_blanks(path).empty()) {
        fail_here("VOLUME specified can not be an empty string");
      }
    }
  }

  void healthcheck()
  {
    m_step.kind = StepKind::healthcheck;
    require_args();
    auto fields = split_fields(m_head.rest);
    std::string type = upper(fields[0].text);
    if (type == "NONE") {
      if (fields.size() > 1) {
        fail_here("HEALTHCHECK NONE takes no arguments");
      }
      if (!m_flags.empty()) {
        m_ctx.diagnostics.add(Severity::warning, line_start(), "HEALTHCHECK NONE ignores its options");
      }
      m_step.args = {"NONE"};
      return;
    }
    if (type != "CMD") {
      m_ctx.error(rest_pos(), fmt::format("unknown type \"{}\" in HEALTHCHECK (try CMD)", fields[0].text),
                  m_head.rest);
    }
    for (const auto& raw : m_flags) {
      SourcePos pos = m_line.at(raw.offset);
      if (raw.name == "retries") {
        if (!parse_u64(raw.value)) {
          m_ctx.error(pos, "--retries must be a non-negative integer", "--retries=" + raw.value);
        }
      } else if (!valid_healthcheck_duration(raw.value)) {
        m_ctx.error(pos, fmt::format("invalid duration for --{}: \"{}\"", raw.name, raw.value),
                    "--" + raw.name + "=" + raw.value);
      }
    }
    size_t after_cmd = fields[0].offset + fields[0].text.size();
    std::string_view cmd = m_head.rest.substr(after_cmd);
    command(cmd, m_line.at(m_head.rest_offset + after_cmd));
  }

  void onbuild()
  {
    m_step.kind = StepKind::onbuild;
    require_args();
    auto fields = split_fields(m_head.rest);
    std::string trigger = to_lower(fields[0].text);
    SourcePos pos = rest_pos();
    if (trigger == "onbuild") {
      m_ctx.error(pos, "chaining ONBUILD via ONBUILD ONBUILD isn't allowed", m_head.rest);
    }
    if (trigger == "from" || trigger == "maintainer") {
      m_ctx.error(pos, fmt::format("{} isn't allowed as an ONBUILD trigger", upper(trigger)), m_head.rest);
    }
    if (!is_known_instruction(trigger)) {
      m_ctx.error(pos, fmt::format("unknown instruction {} in ONBUILD", upper(trigger)), m_head.rest);
    }
    // The trigger runs, and is expanded, in the build that uses this image;
    // its heredocs travel with it, after the line, as Docker records them.
    std::string expression(m_head.rest);
    for (const auto& doc : m_line.heredocs) {
      expression += "\n" + doc.content + doc.name;
    }
    m_step.args = {std::move(expression)};
  }

  const LogicalLine& m_line;
  const Head& m_head;
  ParseContext& m_ctx;
  Scope& m_scope;
  Lookup m_lookup;
  std::vector<RawFlag> m_flags;
  Step m_step;
};

} // namespace

std::vector<KeyValue> parse_arg_pairs(const LogicalLine& line, const Head& head, ParseContext& context,
                                      const Lookup& lookup)
{
  if (!head.flags.empty()) {
    check_flags(line, head, context); // ARG takes no flags: this reports the first one
  }
  auto words = split_quoted_words(head.rest, context.escape);
  if (words.empty()) {
    context.error(line.at(head.keyword_offset), "ARG requires at least one argument", line.text);
  }
  std::vector<KeyValue> out;
  // Each ARG sees the ones declared before it on the same line.
  std::vector<KeyValue> declared;
  Lookup chained = [&](std::string_view name) -> std::optional<std::string> {
    for (auto it = declared.rbegin(); it != declared.rend(); ++it) {
      if (it->key == name) {
        return it->value;
      }
    }
    return lookup(name);
  };
  for (const auto& word : words) {
    SourcePos pos = line.at(head.rest_offset + word.offset);
    size_t eq = word.text.find('=');
    KeyValue pair;
    pair.key = context.expand(std::string_view(word.text).substr(0, eq), pos, chained);
    if (pair.key.empty()) {
      context.error(pos, "ARG names can not be blank", word.text);
    }
    if (eq != std::string::npos) {
      pair.value = context.expand(std::string_view(word.text).substr(eq + 1), pos, chained);
    }
    if (auto given = context.build_arg(pair.key)) {
      pair.value = *given;
    } else if (!pair.value) {
      // Without a default, a re-declared ARG takes the global or automatic value.
      for (const auto& global : context.global_args) {
        if (global.key == pair.key) {
          pair.value = global.value;
        }
      }
      if (!pair.value) {
        for (const auto& [k, v] : context.automatic) {
          if (k == pair.key) {
            pair.value = v;
          }
        }
      }
    }
    declared.push_back(pair);
    out.push_back(std::move(pair));
  }
  return out;
}

Step parse_step(const LogicalLine& line, const Head& head, ParseContext& context, Scope& scope)
{
  return StepParser(line, head, context, scope).parse();
}

} // namespace kiln::builder
