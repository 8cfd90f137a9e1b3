// Shared fixtures of the session and filler tests: io threads, an event recorder, a filler bank whose
// audio is recognisable, and helpers that split a session's output audio into filler and reply.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "parley/agent/session.hpp"

namespace parley::agent::testing {

using namespace std::chrono_literals;
inline constexpr auto k_wait = 20s;  // upper bound for "it finished", never a timing assertion

class io_threads {
 public:
  explicit io_threads(int n = 2) : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~io_threads() {
    work_.reset();
    for (auto& t : threads_) t.join();
  }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

struct recorder {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<event> events;
  std::vector<obs::turn_timeline> turns;
  bool ended = false;

  session_callbacks callbacks() {
    return {.on_event =
                [this](const event& e) {
                  std::lock_guard lock(mutex);
                  events.push_back(e);
                  if (std::holds_alternative<end_of_stream>(e.body)) ended = true;
                  cv.notify_all();
                },
            .on_turn =
                [this](const obs::turn_timeline& t) {
                  std::lock_guard lock(mutex);
                  turns.push_back(t);
                  cv.notify_all();
                }};
  }
  /// A copy of event `i`: the session may still be adding events (a reallocation would move them).
  event at(std::size_t i) {
    std::lock_guard lock(mutex);
    return events.at(i);
  }
  template <class Pred>
  bool wait_for(Pred pred) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, k_wait, [&] { return pred(); });
  }
  bool wait_end() { return wait_for([this] { return ended; }); }
};

// A filler whose samples are all `k_filler_value` (the mock voice never holds one value that
// long), `n_words` words of `word_ms` each with no pause: a chunk is filler audio iff it is a
// whole word of that value.
inline constexpr std::int16_t k_filler_value = 1234;

inline filler_clip constant_clip(std::string text, std::size_t n_words, double word_ms, int rate_hz = 16000) {
  const auto word = static_cast<std::size_t>(ms_to_samples(word_ms, rate_hz));
  filler_clip clip{std::move(text), rate_hz, std::vector<std::int16_t>(n_words * word, k_filler_value), {}};
  for (std::size_t k = 1; k <= n_words; ++k) clip.word_ends.push_back(k * word);
  return clip;
}

inline std::shared_ptr<const filler_bank> test_bank(std::size_t n_words = 10, double word_ms = 300.0) {
  return std::make_shared<const filler_bank>(
      filler_bank{constant_clip("One moment please while I look.", n_words, word_ms),
                  constant_clip("Let me check that for you.", n_words, word_ms)});
}

inline bool is_filler_chunk(const output_audio_chunk& a) {
  return !a.samples.empty() &&
         std::all_of(a.samples.begin(), a.samples.end(), [](std::int16_t s) { return s == k_filler_value; });
}

/// The output audio of a session, in order: for each chunk whether it is filler.
struct audio_order {
  std::vector<std::size_t> filler;  // event indices of filler chunks
  std::vector<std::size_t> reply;   // event indices of reply chunks
  std::size_t first_reply_flagged = SIZE_MAX;  // index of the chunk with first = true
};

inline audio_order split_audio(recorder& rec) {
  std::lock_guard lock(rec.mutex);
  audio_order out;
  for (std::size_t i = 0; i < rec.events.size(); ++i) {
    const auto* a = std::get_if<output_audio_chunk>(&rec.events[i].body);
    if (a == nullptr) continue;
    (is_filler_chunk(*a) ? out.filler : out.reply).push_back(i);
    if (a->first && out.first_reply_flagged == SIZE_MAX) out.first_reply_flagged = i;
  }
  return out;
}

template <class T>
std::size_t first_index(recorder& rec) {
  std::lock_guard lock(rec.mutex);
  for (std::size_t i = 0; i < rec.events.size(); ++i) {
    if (std::holds_alternative<T>(rec.events[i].body)) return i;
  }
  return SIZE_MAX;
}

inline std::optional<std::variant<double, std::string>> note_value(const obs::turn_timeline& t, std::string_view name) {
  for (const auto& n : t.notes) {
    if (n.name == name) return n.value;
  }
  return std::nullopt;
}

inline std::vector<std::string> note_strings(const obs::turn_timeline& t, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& n : t.notes) {
    if (n.name == name) {
      if (const auto* s = std::get_if<std::string>(&n.value)) out.push_back(*s);
    }
  }
  return out;
}

}  // namespace parley::agent::testing
