#pragma once

// Keeps the last lines of a command's output for error messages, fed with
// chunks as they arrive (a line may span chunks).

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

class OutputTail
{
public:
  explicit OutputTail(size_t max_lines) : m_max_lines(max_lines) {}

  void feed(std::string_view chunk);
  // The kept lines, oldest first, including an unterminated last line.
  std::vector<std::string> lines() const;

private:
  void push(std::string line);

  size_t m_max_lines;
  std::deque<std::string> m_lines;
  std::string m_partial;
};

} // namespace kiln::builder
