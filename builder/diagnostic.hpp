#pragma once

// Parse errors and the warnings collected while parsing.

#include "base/error.hpp"
#include "builder/model.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

struct SourcePos
{
  uint32_t line = 0;
  uint32_t column = 0;
};

// A Containerfile the parser refuses. what() is one line:
// "FILE:LINE:COL: REASON: OFFENDING TEXT".
class ParseError : public kiln::Error
{
public:
  ParseError(std::string file, SourcePos pos, std::string reason, std::string_view text);

  const std::string& file() const { return m_file; }
  SourcePos pos() const { return m_pos; }
  const std::string& reason() const { return m_reason; }

private:
  std::string m_file;
  SourcePos m_pos;
  std::string m_reason;
};

// The offending text as it is quoted in messages: one line, at most 80 bytes.
std::string excerpt(std::string_view text);

// Notes and warnings, each kept once however often it is raised.
class Diagnostics
{
public:
  explicit Diagnostics(std::string file) : m_file(std::move(file)) {}

  void add(Severity severity, SourcePos pos, std::string message);
  const std::string& file() const { return m_file; }
  std::vector<Diagnostic> take() { return std::move(m_items); }

private:
  std::string m_file;
  std::vector<Diagnostic> m_items;
};

} // namespace kiln::builder
