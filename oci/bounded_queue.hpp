#pragma once

// A blocking queue of bounded capacity between one producer and one
// consumer: the producer waits when it is full, which is what keeps a
// pipeline's memory bounded whatever the input size.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace kiln::oci {

template<typename T> class BoundedQueue
{
public:
  explicit BoundedQueue(size_t capacity) : m_capacity(capacity) {}

  // False once the queue is closed (the consumer gave up).
  bool push(T value)
  {
    std::unique_lock lock(m_mutex);
    m_not_full.wait(lock, [&] { return m_closed || m_items.size() < m_capacity; });
    if (m_closed) {
      return false;
    }
    m_items.push_back(std::move(value));
    m_not_empty.notify_one();
    return true;
  }

  // The next item, or nothing once finished and drained, or closed.
  std::optional<T> pop()
  {
    std::unique_lock lock(m_mutex);
    m_not_empty.wait(lock, [&] { return m_closed || m_finished || !m_items.empty(); });
    if (m_closed || m_items.empty()) {
      return std::nullopt;
    }
    T value = std::move(m_items.front());
    m_items.pop_front();
    m_not_full.notify_one();
    return value;
  }

  // No more items will come; the consumer drains what is left.
  void finish()
  {
    std::lock_guard lock(m_mutex);
    m_finished = true;
    m_not_empty.notify_all();
  }

  // Stop now: both sides return at once, pending items are dropped.
  void close()
  {
    std::lock_guard lock(m_mutex);
    m_closed = true;
    m_not_empty.notify_all();
    m_not_full.notify_all();
  }

  bool closed() const
  {
    std::lock_guard lock(m_mutex);
    return m_closed;
  }

private:
  size_t m_capacity;
  mutable std::mutex m_mutex;
  std::condition_variable m_not_empty;
  std::condition_variable m_not_full;
  std::deque<T> m_items;
  bool m_finished = false;
  bool m_closed = false;
};

} // namespace kiln::oci
