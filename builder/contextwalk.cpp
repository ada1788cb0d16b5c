#include "builder/contextwalk.hpp"

#include "base/error.hpp"
#include "base/fileio.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

namespace kiln::builder {

namespace {

class Walker
{
public:
  Walker(const std::filesystem::path& root, const ContextWalkOptions& options, const ContextVisitor& visit)
      : m_root(root), m_options(options), m_visit(visit)
  {
  }

  Result<void> walk(int dir_fd, const std::string& prefix)
  {
    int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
      return fail(fmt::format("walk context {}: {}", display(prefix), errno_text(errno)));
    }
    DIR* dir = fdopendir(dup_fd);
    if (dir == nullptr) {
      int err = errno;
      close(dup_fd);
      return fail(fmt::format("walk context {}: {}", display(prefix), errno_text(err)));
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = readdir(dir)) {
      std::string_view name = entry->d_name;
      if (name != "." && name != "..") {
        names.emplace_back(name);
      }
    }
    int read_err = errno;
    closedir(dir);
    if (read_err != 0) {
      return fail(fmt::format("walk context {}: {}", display(prefix), errno_text(read_err)));
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      ContextEntry entry{rel, {}};
      if (fstatat(dir_fd, name.c_str(), &entry.st, AT_SYMLINK_NOFOLLOW) != 0) {
        return fail(fmt::format("walk context {}: stat: {}", display(rel), errno_text(errno)));
      }
      bool excluded = is_excluded(rel);
      bool is_dir = S_ISDIR(entry.st.st_mode);
      if (!excluded) {
        m_visit(entry);
      }
      // Below an excluded directory only a '!' line can bring files back.
      if (!is_dir || (excluded && !may_reinclude(rel))) {
        continue;
      }
      Fd child(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) {
        return fail(fmt::format("walk context {}: open: {}", display(rel), errno_text(errno)));
      }
      auto sub = walk(child.get(), rel);
      if (!sub) {
        return sub;
      }
    }
    return {};
  }

private:
  std::string display(const std::string& rel) const { return (m_root / rel).string(); }

  bool is_excluded(const std::string& rel) const
  {
    if (m_options.matcher == nullptr) {
      return false;
    }
    if (std::find(m_options.keep.begin(), m_options.keep.end(), rel) != m_options.keep.end()) {
      return false;
    }
    return m_options.matcher->excluded(rel);
  }

  bool may_reinclude(const std::string& dir) const
  {
    for (const auto& kept : m_options.keep) {
      if (kept.starts_with(dir + "/")) {
        return true;
      }
    }
    return m_options.matcher != nullptr && m_options.matcher->has_exceptions();
  }

  const std::filesystem::path& m_root;
  const ContextWalkOptions& m_options;
  const ContextVisitor& m_visit;
};

} // namespace

std::vector<std::string> always_included(const std::filesystem::path& context,
                                         const std::filesystem::path& containerfile,
                                         const std::optional<std::filesystem::path>& ignore_file)
{
  std::vector<std::string> out;
  std::error_code ec;
  auto root = std::filesystem::weakly_canonical(context, ec);
  for (const auto* path : {&containerfile, ignore_file ? &*ignore_file : nullptr}) {
    if (path == nullptr) {
      continue;
    }
    auto full = std::filesystem::weakly_canonical(*path, ec);
    auto rel = full.lexically_relative(root);
    if (!ec && !rel.empty() && *rel.begin() != ".." && rel != ".") {
      out.push_back(rel.generic_string());
    }
  }
  return out;
}

Result<void> walk_context(const std::filesystem::path& root, const ContextWalkOptions& options,
                          const ContextVisitor& visit)
{
  Fd fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return fail(fmt::format("walk context {}: {}", root.string(), errno_text(errno)));
  }
  Walker walker(root, options, visit);
  return walker.walk(fd.get(), "");
}

} // namespace kiln::builder
