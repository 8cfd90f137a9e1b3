// engines/pocketsphinx/recognizer_core — the recognizer's shared state (internal to the adapter).
//
// Role: what every stream of one pocketsphinx_recognizer shares: the config, the decoder pool
// (fewer decoders than streams: a stream holds one only while its utterance is decoded), the
// ready queue and the worker threads that run the streams' turns (decoder_pool.cpp), the
// counters behind stats(), and the adaptive cepstral-mean priors (recognizer-wide and per channel).
// Threading: `mutex` guards the pool and the queues; `cmn_mutex` the CMN priors; the counters are
// atomics. A stream is in at most one queue at a time and runs on one worker at a time.
// Ownership: the recognizer and every open stream hold the core (shared_ptr); shutdown() (from the
// recognizer's destructor) stops and joins the workers and answers the streams left in a queue.
// Units: samples at 16 kHz, CPU time in µs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"
#include "parley/engines/pocketsphinx/sphinx_decoder.hpp"

namespace parley::pocketsphinx {

namespace detail {
class stream_state;
}

struct pocketsphinx_recognizer::core {
  pocketsphinx_config config;
  pocketsphinx_startup startup;
  std::vector<std::unique_ptr<detail::decoder>> decoders;

  std::mutex mutex;  // guards everything below up to `threads`
  std::condition_variable wake;
  std::vector<detail::decoder*> free_decoders;
  std::deque<std::shared_ptr<detail::stream_state>> ready;    // streams with work, FIFO
  std::deque<std::shared_ptr<detail::stream_state>> waiting;  // streams waiting for a decoder, FIFO
  bool stopping = false;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};  // set once shutdown() has begun

  std::atomic<std::uint64_t> n_opened{0}, n_finals{0}, n_cancelled{0}, n_partials{0}, n_waited{0}, n_dropped{0};
  std::atomic<std::uint64_t> decoded_samples{0};
  std::atomic<std::uint64_t> cpu_us{0};

  // cmn_mode::adaptive: the recognizer-wide prior cepstral mean (empty until the first decoder
  // exists; then the model's prior, moving towards each completed utterance's mean).
  std::mutex cmn_mutex;
  std::vector<float> cmn_shared_prior;
  // ... and per channel (recognizer_events::channel): the channel's own prior, how many of its
  // utterances shaped it, and when it was last used (the least recently used goes beyond
  // k_max_channels).
  struct channel_prior {
    std::vector<float> mean;
    int n_utterances = 0;
    std::uint64_t last_used = 0;
  };
  static constexpr std::size_t k_max_channels = 4096;
  std::unordered_map<std::uint64_t, channel_prior> cmn_channels;
  std::uint64_t cmn_clock = 0;

  std::size_t piece_samples = 3200;    // decoded between two partials
  std::size_t slice_samples = 16000;   // decoded per turn on a worker before yielding
  std::size_t max_pending_samples = 0;

  ~core() = default;

  /// Queues `s` for a worker (`urgent`: at the front — a stream whose endpoint was decided goes
  /// before streams still listening). False once the recognizer is shutting down.
  bool schedule(std::shared_ptr<detail::stream_state> s, bool urgent = false);
  /// Moves `s` to the front of the ready queue if it is waiting there.
  void expedite(const std::shared_ptr<detail::stream_state>& s);
  /// A free decoder, or null after putting `s` in the waiting list.
  detail::decoder* acquire(const std::shared_ptr<detail::stream_state>& s);
  void release(detail::decoder* d);
  /// The most audio (samples) any stream queued for a worker or waiting for a decoder has not
  /// had decoded yet. Streams a worker holds right now (at most one per worker) are not counted.
  std::size_t backlog_samples();
  void worker_loop();
  void shutdown();
};

}  // namespace parley::pocketsphinx
