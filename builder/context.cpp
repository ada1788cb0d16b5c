#include "base/strings.hpp"
#include "builder/instruction.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace kiln::builder {

namespace {

// Expansion of one Containerfile may build at most this much text in total.
constexpr size_t k_max_expanded = 64u << 20;

} // namespace

ParseContext::ParseContext(const ParseOptions& opts, Diagnostics& diags, char esc)
    : options(opts), diagnostics(diags), escape(esc),
      automatic(automatic_platform_args(opts.target_platform, opts.build_platform))
{
}

std::optional<std::string> ParseContext::build_arg(const std::string& name)
{
  std::optional<std::string> value;
  for (const auto& [k, v] : options.build_args) {
    if (k == name) {
      value = v;
    }
  }
  if (value) {
    m_consumed.push_back(name);
  }
  return value;
}

std::vector<std::string> ParseContext::unconsumed_build_args() const
{
  std::vector<std::string> out;
  for (const auto& arg : options.build_args) {
    const std::string& k = arg.first;
    bool used = std::find(m_consumed.begin(), m_consumed.end(), k) != m_consumed.end();
    bool automatic_name =
        std::any_of(automatic.begin(), automatic.end(), [&](const auto& a) { return a.first == k; });
    if (!used && !is_proxy_arg(k) && !automatic_name && std::find(out.begin(), out.end(), k) == out.end()) {
      out.push_back(k);
    }
  }
  return out;
}

std::string ParseContext::expand(std::string_view text, SourcePos pos, const Lookup& lookup)
{
  ShellWord shell{escape, Quotes::remove, Escapes::remove, Unset::empty};
  auto word = shell.word(text, lookup);
  if (!word) {
    error(pos, word.error(), text);
  }
  m_expanded_bytes += word->size();
  if (m_expanded_bytes > k_max_expanded) {
    error(pos, "expansion produced more than 64 MiB in total", text);
  }
  return std::move(*word);
}

void ParseContext::error(SourcePos pos, std::string reason, std::string_view text) const
{
  throw ParseError(file(), pos, std::move(reason), text);
}

Head split_head(const LogicalLine& line)
{
  Head head;
  std::string_view text = line.text;
  size_t i = 0;
  while (i < text.size() && is_blank(text[i])) {
    ++i;
  }
  head.keyword_offset = i;
  size_t start = i;
  while (i < text.size() && !is_blank(text[i])) {
    ++i;
  }
  head.keyword = to_lower(text.substr(start, i - start));
  LeadingFlags flags = extract_flags(text.substr(i));
  for (auto& piece : flags.flags) {
    piece.offset += i;
    head.flags.push_back(std::move(piece));
  }
  head.rest_offset = i + flags.rest_offset;
  head.rest = text.substr(head.rest_offset);
  while (!head.rest.empty() && is_blank(head.rest.back())) {
    head.rest.remove_suffix(1);
  }
  return head;
}

bool is_known_instruction(std::string_view k)
{
  static constexpr std::string_view k_names[] = {
      "from", "run",        "cmd",    "entrypoint", "shell",       "copy",
      "add",  "env",        "label",  "maintainer", "arg",         "workdir",
      "user", "stopsignal", "expose", "volume",     "healthcheck", "onbuild"};
  return std::find(std::begin(k_names), std::end(k_names), k) != std::end(k_names);
}

} // namespace kiln::builder
