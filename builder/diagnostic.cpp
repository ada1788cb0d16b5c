#include "builder/diagnostic.hpp"

#include <fmt/core.h>

namespace kiln::builder {

std::string excerpt(std::string_view text)
{
  constexpr size_t k_max = 80;
  std::string out;
  for (char c : text) {
    if (out.size() >= k_max) {
      out += "...";
      break;
    }
    // Messages are one line: newlines in a joined instruction become spaces.
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

ParseError::ParseError(std::string file, SourcePos pos, std::string reason, std::string_view text)
    : kiln::Error(text.empty()
                      ? fmt::format("{}:{}:{}: {}", file, pos.line, pos.column, reason)
                      : fmt::format("{}:{}:{}: {}: {}", file, pos.line, pos.column, reason, excerpt(text))),
      m_file(std::move(file)), m_pos(pos), m_reason(std::move(reason))
{
}

void Diagnostics::add(Severity severity, SourcePos pos, std::string message)
{
  for (const auto& item : m_items) {
    if (item.message == message && item.line == pos.line && item.column == pos.column) {
      return;
    }
  }
  m_items.push_back(Diagnostic{severity, m_file, pos.line, pos.column, std::move(message)});
}

} // namespace kiln::builder
