#pragma once

// Work done ahead, on one background thread at a low CPU priority, so it
// fills a core the build leaves idle (a RUN step's single-threaded command)
// rather than competing with it. A build uses it for the image bases of
// later stages: trust check, blobs, extraction.
//
// Each task has a key. Whoever needs a key's result first gets the finished
// result, waits for the running task, or, when the task has not started,
// claims it (nullopt: the caller does the work itself, and the background
// thread never will). A task's exception is rethrown to the taker.

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kiln::builder {

template<typename T> class Prefetcher
{
public:
  Prefetcher() = default;
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  ~Prefetcher() { stop(); }

  // Tasks not yet started are dropped; a running one is waited for.
  void stop()
  {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }

  // Before start(): tasks run in key order.
  void add(int key, std::function<T()> task) { m_slots[key].task = std::move(task); }

  // nice: added to the thread's nice value (Linux keeps one per thread),
  // up to 19; children it forks and threads it starts inherit it. Only the
  // first call starts the thread.
  void start(int nice)
  {
    std::lock_guard lock(m_mutex);
    if (m_slots.empty() || m_started || m_stopping) {
      return;
    }
    m_started = true;
    m_thread = std::thread([this, nice] {
      auto self = static_cast<id_t>(::syscall(SYS_gettid));
      errno = 0;
      int now = ::getpriority(PRIO_PROCESS, self);
      if (errno == 0) {
        (void)::setpriority(PRIO_PROCESS, self, std::min(now + nice, 19));
      }
      run();
    });
  }

  std::optional<T> take(int key)
  {
    std::unique_lock lock(m_mutex);
    auto it = m_slots.find(key);
    if (it == m_slots.end()) {
      return std::nullopt;
    }
    Slot& slot = it->second;
    if (slot.state == State::waiting) {
      slot.state = State::claimed;
      return std::nullopt;
    }
    m_changed.wait(lock, [&] { return slot.state != State::running; });
    if (slot.state != State::done) {
      return std::nullopt; // taken before
    }
    slot.state = State::claimed;
    if (slot.error) {
      std::rethrow_exception(slot.error);
    }
    return std::move(slot.result);
  }

private:
  enum class State { waiting, running, done, claimed };
  struct Slot
  {
    std::function<T()> task;
    State state = State::waiting;
    std::optional<T> result;
    std::exception_ptr error;
  };

  void run()
  {
    for (auto& [key, slot] : m_slots) {
      {
        std::lock_guard lock(m_mutex);
        if (m_stopping) {
          return;
        }
        if (slot.state != State::waiting) {
          continue;
        }
        slot.state = State::running;
      }
      std::optional<T> result;
      std::exception_ptr error;
      try {
        result.emplace(slot.task());
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(m_mutex);
      slot.result = std::move(result);
      slot.error = error;
      slot.state = State::done;
      m_changed.notify_all();
    }
  }

  std::map<int, Slot> m_slots;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_started = false;
  bool m_stopping = false;
  std::thread m_thread;
};

} // namespace kiln::builder
