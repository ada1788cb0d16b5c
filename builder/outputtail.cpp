#include "builder/outputtail.hpp"

namespace kiln::builder {

namespace {

// A single line is capped so that a command printing megabytes without a
// newline cannot make kiln hold them all.
constexpr size_t k_max_line_bytes = 4096;

} // namespace

void OutputTail::push(std::string line)
{
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  m_lines.push_back(std::move(line));
  while (m_lines.size() > m_max_lines) {
    m_lines.pop_front();
  }
}

void OutputTail::feed(std::string_view chunk)
{
  while (!chunk.empty()) {
    auto newline = chunk.find('\n');
    std::string_view piece = chunk.substr(0, newline);
    if (m_partial.size() < k_max_line_bytes) {
      m_partial.append(piece.substr(0, k_max_line_bytes - m_partial.size()));
    }
    if (newline == std::string_view::npos) {
      return;
    }
    push(std::move(m_partial));
    m_partial.clear();
    chunk.remove_prefix(newline + 1);
  }
}

std::vector<std::string> OutputTail::lines() const
{
  std::vector<std::string> result(m_lines.begin(), m_lines.end());
  if (!m_partial.empty()) {
    result.push_back(m_partial);
    if (result.size() > m_max_lines) {
      result.erase(result.begin());
    }
  }
  return result;
}

} // namespace kiln::builder
