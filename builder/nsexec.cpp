#include "builder/nsexec.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include "base/error.hpp"
#include "base/fileio.hpp"

namespace kiln::builder {

namespace {

Result<std::string> read_all(int fd)
{
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(errno_text(errno));
    }
    if (n == 0) {
      return text;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
}

} // namespace

Result<std::string> stream_from_user_namespace(const IdMap& map,
                                               const std::function<Result<std::string>(oci::Sink&)>& produce,
                                               oci::Sink& out)
{
  int data[2];
  int result[2];
  if (::pipe2(data, O_CLOEXEC) != 0) {
    return fail(fmt::format("create pipe: {}", errno_text(errno)));
  }
  Fd data_read(data[0]);
  Fd data_write(data[1]);
  if (::pipe2(result, O_CLOEXEC) != 0) {
    return fail(fmt::format("create pipe: {}", errno_text(errno)));
  }
  Fd result_read(result[0]);
  Fd result_write(result[1]);
  int data_fd = data_write.get();
  int result_fd = result_write.get();
  int data_read_fd = data_read.get();
  int result_read_fd = result_read.get();
  auto pid = spawn_in_user_namespace(
    map,
    [&]() -> int {
      ::close(data_read_fd);
      ::close(result_read_fd);
      oci::FdSink sink(data_fd);
      auto produced = produce(sink);
      ::close(data_fd);
      // "+" and the result, or "-" and the error message.
      std::string message = produced ? "+" + *produced : "-" + produced.error();
      (void)write_all(result_fd, message.data(), message.size());
      return produced ? 0 : 1;
    },
    UserNamespace::shared);
  data_write.reset();
  result_write.reset();
  if (!pid) {
    return fail(pid.error());
  }
  auto pumped = oci::pump(data_read.get(), out);
  data_read.reset(); // a child still writing gets EPIPE instead of hanging
  auto message = read_all(result_read.get());
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (message && !message->empty()) {
    if ((*message)[0] == '-') {
      return fail(message->substr(1));
    }
    if (!pumped) {
      return fail(fmt::format("receive from the user namespace: {}", pumped.error()));
    }
    return message->substr(1);
  }
  if (!pumped) {
    return fail(fmt::format("receive from the user namespace: {}", pumped.error()));
  }
  if (WIFSIGNALED(status)) {
    return fail(fmt::format("work in the user namespace was killed by signal {}", WTERMSIG(status)));
  }
  return fail(fmt::format("work in the user namespace ended without a result (exit status {})",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1));
}

Result<void> run_in_namespace(const IdMap& map, const std::function<Result<void>()>& work)
{
  oci::StringSink nothing;
  auto r = stream_from_user_namespace(
    map,
    [&](oci::Sink&) -> Result<std::string> {
      auto done = work();
      if (!done) {
        return fail(done.error());
      }
      return std::string();
    },
    nothing);
  if (!r) {
    return fail(r.error());
  }
  return {};
}

Result<PathAnchor> PathAnchor::open(const std::vector<std::filesystem::path>& paths)
{
  std::filesystem::path common;
  for (const auto& path : paths) {
    auto absolute = std::filesystem::absolute(path).lexically_normal();
    if (common.empty()) {
      common = absolute;
      continue;
    }
    std::filesystem::path shared;
    for (auto a = common.begin(), b = absolute.begin(); a != common.end() && b != absolute.end() && *a == *b;
         ++a, ++b) {
      shared /= *a;
    }
    common = shared;
  }
  if (common.empty()) {
    common = "/";
  }
  // The deepest existing directory: a path may be a file.
  PathAnchor anchor;
  for (;;) {
    anchor.m_fd.reset(::open(common.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (anchor.m_fd || common == common.root_path() || errno != ENOTDIR) {
      break;
    }
    common = common.parent_path();
  }
  if (!anchor.m_fd) {
    return fail(fmt::format("open \"{}\": {}", common.string(), errno_text(errno)));
  }
  anchor.m_dir = common;
  return anchor;
}

std::filesystem::path PathAnchor::operator()(const std::filesystem::path& path) const
{
  auto absolute = std::filesystem::absolute(path).lexically_normal();
  auto relative = absolute.lexically_relative(m_dir);
  if (relative.empty() || *relative.begin() == "..") {
    return absolute;
  }
  return relative;
}

Result<void> PathAnchor::enter() const
{
  if (::fchdir(m_fd.get()) != 0) {
    return fail(fmt::format("enter \"{}\": {}", m_dir.string(), errno_text(errno)));
  }
  return {};
}

} // namespace kiln::builder
