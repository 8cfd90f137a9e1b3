// The recognizer's decoder pool, ready queue and workers (see recognizer_core.hpp).
#include <algorithm>

#include "parley/engines/pocketsphinx/recognizer_core.hpp"
#include "parley/engines/pocketsphinx/stream_state.hpp"

namespace parley::pocketsphinx {

using detail::decoder;
using detail::stream_state;
using detail::thread_cpu_ms;

bool pocketsphinx_recognizer::core::schedule(std::shared_ptr<stream_state> s, bool urgent) {
  {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    if (urgent) ready.push_front(std::move(s));
    else ready.push_back(std::move(s));
  }
  wake.notify_one();
  return true;
}

void pocketsphinx_recognizer::core::expedite(const std::shared_ptr<stream_state>& s) {
  std::lock_guard lock(mutex);
  const auto it = std::find(ready.begin(), ready.end(), s);
  if (it == ready.end() || it == ready.begin()) return;
  auto moved = std::move(*it);
  ready.erase(it);
  ready.push_front(std::move(moved));
}

decoder* pocketsphinx_recognizer::core::acquire(const std::shared_ptr<stream_state>& s) {
  std::lock_guard lock(mutex);
  if (!free_decoders.empty()) {
    decoder* d = free_decoders.back();
    free_decoders.pop_back();
    return d;
  }
  waiting.push_back(s);
  n_waited.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void pocketsphinx_recognizer::core::release(decoder* d) {
  bool handed_over = false;
  {
    std::lock_guard lock(mutex);
    while (!waiting.empty()) {
      auto next = std::move(waiting.front());
      waiting.pop_front();
      if (next->cancelled()) continue;  // nothing to decode any more
      next->set_decoder(d);             // happens-before its next turn (this mutex)
      ready.push_back(std::move(next));
      handed_over = true;
      break;
    }
    if (!handed_over) free_decoders.push_back(d);
  }
  if (handed_over) wake.notify_one();
}

std::size_t pocketsphinx_recognizer::core::backlog_samples() {
  std::vector<std::shared_ptr<stream_state>> queued;
  {
    std::lock_guard lock(mutex);
    queued.assign(ready.begin(), ready.end());
    queued.insert(queued.end(), waiting.begin(), waiting.end());
  }
  // A stream's own mutex is taken outside the core's: feed() holds the stream's, then schedules.
  std::size_t most = 0;
  for (const auto& s : queued) {
    if (!s->cancelled()) most = std::max(most, s->pending_samples());
  }
  return most;
}

void pocketsphinx_recognizer::core::worker_loop() {
  for (;;) {
    std::shared_ptr<stream_state> s;
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [&] { return stopping || !ready.empty(); });
      if (stopping) return;
      s = std::move(ready.front());
      ready.pop_front();
    }
    const double cpu0 = thread_cpu_ms();
    s->work();
    const double spent = thread_cpu_ms() - cpu0;
    cpu_us.fetch_add(static_cast<std::uint64_t>(spent * 1000.0), std::memory_order_relaxed);
  }
}

void pocketsphinx_recognizer::core::shutdown() {
  {
    std::lock_guard lock(mutex);
    if (stopping) return;
    stopping = true;
    stopped.store(true, std::memory_order_release);
  }
  wake.notify_all();
  for (auto& t : threads)
    if (t.joinable()) t.join();
  std::deque<std::shared_ptr<stream_state>> left;
  {
    std::lock_guard lock(mutex);
    left.swap(ready);
    for (auto& w : waiting) left.push_back(std::move(w));
    waiting.clear();
  }
  for (auto& s : left) s->on_shutdown();
}

}  // namespace parley::pocketsphinx
