#include "builder/prefetch.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace kiln::builder;
using namespace std::chrono_literals;

namespace {

// Holds a task on the background thread: it says when it has started and
// runs on only once released (now, or from another thread after a delay).
struct Hold
{
  std::promise<void> started;
  std::future<void> started_future = started.get_future();
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::thread releaser;

  void enter()
  {
    started.set_value();
    released.wait();
  }
  void wait_started() { started_future.wait(); }
  void release_after(std::chrono::milliseconds delay)
  {
    releaser = std::thread([this, delay] {
      std::this_thread::sleep_for(delay);
      release.set_value();
    });
  }
  ~Hold()
  {
    if (releaser.joinable()) {
      releaser.join();
    }
  }
};

} // namespace

TEST_CASE("a prefetched result is taken once, a running task is waited for")
{
  Prefetcher<std::string> prefetch;
  std::promise<void> first_done;
  prefetch.add(1, [&] {
    first_done.set_value();
    return std::string("one");
  });
  Hold second;
  prefetch.add(2, [&] {
    second.enter();
    return std::string("two");
  });
  prefetch.start(0);
  first_done.get_future().wait();
  CHECK(prefetch.take(1) == std::optional<std::string>("one"));
  CHECK_FALSE(prefetch.take(1)); // taken before
  CHECK_FALSE(prefetch.take(7)); // no such task
  // Task 2 is running: the taker waits for it.
  second.wait_started();
  second.release_after(50ms);
  CHECK(prefetch.take(2) == std::optional<std::string>("two"));
}

TEST_CASE("a task claimed before it starts never runs in the background")
{
  Prefetcher<int> prefetch;
  Hold first;
  std::atomic<int> runs = 0;
  prefetch.add(1, [&] {
    first.enter();
    return 1;
  });
  prefetch.add(2, [&] {
    ++runs;
    return 2;
  });
  prefetch.start(0);
  first.wait_started();
  CHECK_FALSE(prefetch.take(2)); // claimed while task 1 holds the thread
  first.release.set_value();
  CHECK(prefetch.take(1) == std::optional<int>(1));
  prefetch.stop();
  CHECK(runs.load() == 0);
}

TEST_CASE("a task's exception reaches its taker")
{
  Prefetcher<int> prefetch;
  std::promise<void> started;
  prefetch.add(1, [&]() -> int {
    started.set_value();
    throw std::runtime_error("refused by policy");
  });
  prefetch.start(0);
  started.get_future().wait();
  CHECK_THROWS_WITH(prefetch.take(1), "refused by policy");
}

TEST_CASE("the background thread runs at the nice value asked for")
{
  Prefetcher<int> prefetch;
  std::promise<void> started;
  prefetch.add(1, [&] {
    started.set_value();
    return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
  });
  int before = ::getpriority(PRIO_PROCESS, 0);
  prefetch.start(5);
  started.get_future().wait();
  auto nice = prefetch.take(1);
  REQUIRE(nice);
  CHECK(*nice == std::min(before + 5, 19));
  CHECK(::getpriority(PRIO_PROCESS, 0) == before); // the caller's own is unchanged
}

TEST_CASE("stopping drops tasks not started")
{
  std::atomic<int> runs = 0;
  {
    Hold first;
    Prefetcher<int> prefetch;
    prefetch.add(1, [&] {
      first.enter();
      return 1;
    });
    prefetch.add(2, [&] { return ++runs; });
    prefetch.start(0);
    first.wait_started();
    first.release_after(20ms);
    prefetch.stop(); // waits for task 1, drops task 2
  }
  CHECK(runs.load() == 0);
}
