#pragma once

// .containerignore / .dockerignore, read as Docker reads them (moby's
// patternmatcher and ignorefile): one pattern a line; a line starting with
// '#' in column 1 is a comment; patterns are trimmed, cleaned like Go's
// filepath.Clean and stripped of a leading '/'; '*' and '?' do not cross
// '/', "**" crosses any number of directories, [...] is a class, '\'
// escapes; '!' re-includes; the last matching line decides; a pattern that
// matches a parent directory matches everything below it.

#include "base/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::builder {

class IgnoreMatcher
{
public:
  IgnoreMatcher();
  ~IgnoreMatcher();
  IgnoreMatcher(const IgnoreMatcher&);
  IgnoreMatcher(IgnoreMatcher&&) noexcept;
  IgnoreMatcher& operator=(const IgnoreMatcher&);
  IgnoreMatcher& operator=(IgnoreMatcher&&) noexcept;

  // An error names the line and the pattern (an unterminated '[', a bare '!').
  static Result<IgnoreMatcher> parse(std::string_view text);
  static Result<IgnoreMatcher> load(const std::filesystem::path& path);

  // relative_path is '/'-separated and relative to the context root.
  bool excluded(std::string_view relative_path) const;
  // True when some '!' line may re-include a path below an excluded directory.
  bool has_exceptions() const;
  // The cleaned patterns, "!" before the exceptions.
  std::vector<std::string> patterns() const;

  struct Token;
  struct Pattern;

private:
  std::vector<Pattern> m_patterns;
};

// The ignore file a build uses: explicit (--ignorefile) if given, else
// CONTEXT/.containerignore, else CONTEXT/.dockerignore, else none.
std::optional<std::filesystem::path>
find_ignore_file(const std::filesystem::path& context,
                 const std::optional<std::filesystem::path>& explicit_file);

// Go's filepath.Clean on a '/'-separated path.
std::string clean_path(std::string_view path);

} // namespace kiln::builder
