#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"

#include <pocketsphinx.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "parley/core/clock.hpp"
#include "parley/core/log.hpp"
#include "parley/engines/pocketsphinx/domain_lm.hpp"

namespace parley::pocketsphinx {
namespace {

namespace fs = std::filesystem;

// sphinxbase logs every step to stderr through one process-wide FILE*; silence it once, before
// the first decoder exists (it is only read afterwards, so no decoder thread races with this).
void silence_sphinx_log() {
  static std::once_flag once;
  std::call_once(once, [] { err_set_logfp(nullptr); });
}

double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double resident_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0.0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

std::string resolve(const std::string& dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(dir) / path).string();
}

// A cmd_ln_t built from name/value pairs (owned; freed on destruction).
struct cmdln {
  cmd_ln_t* p = nullptr;
  cmdln() = default;
  cmdln(const cmdln&) = delete;
  cmdln& operator=(const cmdln&) = delete;
  ~cmdln() {
    if (p) cmd_ln_free_r(p);
  }
};

result<void> parse_config(cmdln& out, const std::vector<std::pair<std::string, std::string>>& options) {
  std::vector<std::string> strings;
  strings.emplace_back("parley");  // argv[0]: cmd_ln_parse_r skips it
  for (const auto& [k, v] : options) {
    strings.push_back(k);
    strings.push_back(v);
  }
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  out.p = cmd_ln_parse_r(nullptr, ps_args(), static_cast<int32>(argv.size()), argv.data(), TRUE);
  if (out.p == nullptr) return make_error(errc::invalid_argument, "pocketsphinx: invalid decoder options");
  return {};
}

// One complete pocketsphinx decoder (acoustic model, dictionary, biased LM search). Used by one
// utterance at a time; the pool hands it out.
struct decoder {
  ps_decoder_t* ps = nullptr;
  std::vector<mfcc_t> cmn_prior;  // the model's initial cepstral mean, for cmn_mode::reset
  decoder() = default;
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;
  ~decoder() {
    if (ps) ps_free(ps);
  }
};

struct lm_plan {
  bias_mode bias = bias_mode::none;
  double weight = 0.0;
  std::string generic_path;
  std::string domain_arpa_path;  // "" when there is no phrase model
  std::vector<pronunciation> oov;
};

constexpr const char* k_search_name = "parley";

result<std::unique_ptr<decoder>> make_decoder(const pocketsphinx_config& cfg, const lm_plan& plan) {
  std::vector<std::pair<std::string, std::string>> options = {
      {"-hmm", resolve(cfg.model_dir, cfg.acoustic_model)},
      {"-dict", resolve(cfg.model_dir, cfg.dictionary)},
      {"-fwdflat", cfg.second_pass ? "yes" : "no"},
      {"-bestpath", cfg.bestpath ? "yes" : "no"},
      {"-maxwpf", std::to_string(cfg.max_words_per_frame)},
      {"-pl_window", std::to_string(cfg.lookahead_frames)},
      {"-maxhmmpf", std::to_string(cfg.max_hmms_per_frame)},
  };
  double lw = cfg.language_weight;
  if (lw <= 0.0) lw = plan.bias == bias_mode::none ? 6.5 : 8.0;
  options.emplace_back("-lw", std::to_string(lw));
  for (const auto& o : cfg.decoder_options) {  // later options replace earlier ones (no duplicates)
    auto same = std::find_if(options.begin(), options.end(), [&](const auto& e) { return e.first == o.first; });
    if (same != options.end()) same->second = o.second;
    else options.push_back(o);
  }
  cmdln config;
  if (auto s = parse_config(config, options); !s) return s.error();

  auto d = std::make_unique<decoder>();
  d->ps = ps_init(config.p);
  if (d->ps == nullptr)
    return make_error(errc::engine_failure, "pocketsphinx: cannot load the acoustic model " +
                                                resolve(cfg.model_dir, cfg.acoustic_model));

  // Unknown domain words first, while no search exists: every search built afterwards sees them.
  for (const auto& w : plan.oov) {
    if (ps_add_word(d->ps, w.word.c_str(), w.phones.c_str(), FALSE) < 0)
      PARLEY_LOG(warn, "pocketsphinx: could not add a pronunciation for a domain word");
  }

  logmath_t* lmath = ps_get_logmath(d->ps);
  cmd_ln_t* ps_config = ps_get_config(d->ps);
  ngram_model_t* lm = nullptr;
  ngram_model_t* generic = nullptr;
  ngram_model_t* domain = nullptr;
  auto release = [&] {
    if (generic) ngram_model_free(generic);
    if (domain) ngram_model_free(domain);
    if (lm) ngram_model_free(lm);
  };
  if (plan.bias != bias_mode::domain_only) {
    generic = ngram_model_read(ps_config, plan.generic_path.c_str(), NGRAM_AUTO, lmath);
    if (generic == nullptr) {
      release();
      return make_error(errc::engine_failure, "pocketsphinx: cannot read the language model " + plan.generic_path);
    }
  }
  if (plan.bias != bias_mode::none) {
    domain = ngram_model_read(ps_config, plan.domain_arpa_path.c_str(), NGRAM_ARPA, lmath);
    if (domain == nullptr) {
      release();
      return make_error(errc::engine_failure, "pocketsphinx: cannot read the domain language model");
    }
  }
  switch (plan.bias) {
    case bias_mode::none: lm = ngram_model_retain(generic); break;
    case bias_mode::domain_only: lm = ngram_model_retain(domain); break;
    case bias_mode::interpolate: {
      ngram_model_t* models[2] = {generic, domain};
      char generic_name[] = "generic";
      char domain_name[] = "domain";
      char* names[2] = {generic_name, domain_name};
      const float32 weights[2] = {static_cast<float32>(1.0 - plan.weight), static_cast<float32>(plan.weight)};
      lm = ngram_model_set_init(ps_config, models, names, weights, 2);  // retains both models
      if (lm == nullptr) {
        release();
        return make_error(errc::engine_failure, "pocketsphinx: cannot combine the language models");
      }
      break;
    }
  }
  const int set_rc = ps_set_lm(d->ps, k_search_name, lm);  // the search retains lm
  release();
  if (set_rc != 0 || ps_set_search(d->ps, k_search_name) != 0)
    return make_error(errc::engine_failure, "pocketsphinx: cannot build the language model search");

  if (feat_t* feat = ps_get_feat(d->ps); feat != nullptr && feat->cmn_struct != nullptr) {
    d->cmn_prior.resize(static_cast<std::size_t>(feat->cmn_struct->veclen));
    cmn_live_get(feat->cmn_struct, d->cmn_prior.data());
  }
  return d;
}

std::string hypothesis(ps_decoder_t* ps) {
  int32 score = 0;
  const char* hyp = ps_get_hyp(ps, &score);
  return hyp ? std::string(hyp) : std::string();
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const auto j = text.find(' ', i);
    const auto end = j == std::string_view::npos ? text.size() : j;
    if (end > i) words.emplace_back(text.substr(i, end - i));
    i = end;
  }
  return words;
}

class stream_state;

}  // namespace

// ---------------------------------------------------------------------------------------------
// partial_tracker

partial_tracker::partial_tracker(int window) : window_(static_cast<std::size_t>(std::max(2, window))) {}

void partial_tracker::reset() {
  recent_.clear();
  stable_words_ = 0;
}

double partial_tracker::update(std::string_view hypothesis_text) {
  recent_.push_back(split_words(hypothesis_text));
  while (recent_.size() > window_) recent_.pop_front();
  const auto& current = recent_.back();
  stable_words_ = 0;
  if (recent_.size() >= 2) {
    std::size_t n = current.size();
    for (const auto& h : recent_) {
      std::size_t k = 0;
      while (k < n && k < h.size() && h[k] == current[k]) ++k;
      n = k;
    }
    stable_words_ = n;
  }
  if (current.empty()) return 0.0;
  return static_cast<double>(stable_words_) / static_cast<double>(current.size());
}

std::string_view to_string(cmn_mode mode) {
  switch (mode) {
    case cmn_mode::adaptive: return "adaptive";
    case cmn_mode::running: return "running";
    case cmn_mode::fixed: return "fixed";
    case cmn_mode::carry: return "carry";
  }
  return "?";
}

std::string_view to_string(bias_mode mode) {
  switch (mode) {
    case bias_mode::none: return "none";
    case bias_mode::domain_only: return "domain_only";
    case bias_mode::interpolate: return "interpolate";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// core: the decoder pool, the ready queue and the worker threads.

struct pocketsphinx_recognizer::core {
  pocketsphinx_config config;
  pocketsphinx_startup startup;
  std::vector<std::unique_ptr<decoder>> decoders;

  std::mutex mutex;  // guards everything below up to `threads`
  std::condition_variable wake;
  std::vector<decoder*> free_decoders;
  std::deque<std::shared_ptr<stream_state>> ready;    // streams with work, FIFO
  std::deque<std::shared_ptr<stream_state>> waiting;  // streams waiting for a decoder, FIFO
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
  bool schedule(std::shared_ptr<stream_state> s, bool urgent = false);
  /// Moves `s` to the front of the ready queue if it is waiting there.
  void expedite(const std::shared_ptr<stream_state>& s);
  /// A free decoder, or null after putting `s` in the waiting list.
  decoder* acquire(const std::shared_ptr<stream_state>& s);
  void release(decoder* d);
  void worker_loop();
  void shutdown();
};

namespace {

// One utterance. The caller's side (feed/finish/cancel) touches only the fields under `mutex_`
// and the atomics; the worker side runs one turn at a time (a stream is in at most one queue:
// `queued_` says so), and its worker-only fields pass from one worker to the next through the
// core's mutex.
class stream_state : public std::enable_shared_from_this<stream_state> {
 public:
  stream_state(std::shared_ptr<pocketsphinx_recognizer::core> c, engine::recognizer_events events,
               final_detail_fn on_detail)
      : core_(std::move(c)),
        tracker_(core_->config.stability_window),
        events_(std::move(events)),
        on_detail_(std::move(on_detail)) {
    next_partial_at_ = core_->piece_samples;
  }

  // --- caller side -----------------------------------------------------------------------
  void feed(std::span<const std::int16_t> samples) {
    if (samples.empty() || cancelled_.load(std::memory_order_acquire)) return;
    bool need_schedule = false;
    {
      std::lock_guard lock(mutex_);
      if (finish_requested_ || closed_) return;  // audio after finish() belongs to no utterance
      const std::size_t cap = core_->max_pending_samples;
      const std::size_t pending = pending_.size() - pending_off_;
      if (samples.size() >= cap) {  // the new audio alone fills the buffer: keep its newest part
        core_->n_dropped.fetch_add(pending + samples.size() - cap, std::memory_order_relaxed);
        pending_.clear();
        pending_off_ = 0;
        samples = samples.last(cap);
      } else if (pending + samples.size() > cap) {  // drop the oldest audio not yet decoded
        const std::size_t drop = pending + samples.size() - cap;
        pending_off_ += drop;
        core_->n_dropped.fetch_add(drop, std::memory_order_relaxed);
      }
      if (pending_off_ > 0 && pending_off_ >= pending_.size() / 2) {
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(pending_off_));
        pending_off_ = 0;
      }
      pending_.insert(pending_.end(), samples.begin(), samples.end());
      if (!queued_) {
        queued_ = true;
        need_schedule = true;
      }
    }
    if (need_schedule) core_->schedule(shared_from_this());
  }

  void finish() {
    if (cancelled_.load(std::memory_order_acquire)) return;
    bool need_schedule = false;
    {
      std::lock_guard lock(mutex_);
      if (finish_requested_ || closed_) return;
      finish_requested_ = true;
      t_finish_ = steady_clock::now();
      backlog_at_finish_ = pending_.size() - pending_off_;
      if (!queued_) {
        queued_ = true;
        need_schedule = true;
      }
    }
    // Once the recognizer is shut down no worker will run this stream again (it may have been
    // left in a queue): answer here. deliver_final() delivers at most once.
    if (core_->stopped.load(std::memory_order_acquire) ||
        (need_schedule && !core_->schedule(shared_from_this(), /*urgent=*/true)))
      deliver_final(make_error(errc::unavailable, "pocketsphinx: the recognizer has shut down"));
    else if (!need_schedule)
      core_->expedite(shared_from_this());  // already queued behind streams still listening
  }

  void cancel() {
    if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
    core_->n_cancelled.fetch_add(1, std::memory_order_relaxed);
    // Barrier: wait for a callback running on another thread; inside our own callback the flag
    // alone keeps later callbacks from running.
    if (callback_thread_.load(std::memory_order_acquire) != std::this_thread::get_id()) {
      std::lock_guard lock(callback_mutex_);
      events_ = {};
      on_detail_ = nullptr;
    }
    // Let a worker return the decoder to the pool promptly.
    bool need_schedule = false;
    {
      std::lock_guard lock(mutex_);
      if (!queued_ && !closed_) {
        queued_ = true;
        need_schedule = true;
      }
    }
    if (need_schedule) core_->schedule(shared_from_this());
  }

  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  bool finish_requested() {
    std::lock_guard lock(mutex_);
    return finish_requested_ && !closed_;
  }

  // --- worker side -----------------------------------------------------------------------
  void set_decoder(decoder* d) { decoder_ = d; }

  /// One turn on a worker: decode what is buffered (at most a slice), emit partials, finish.
  void work() {
    if (cancelled()) return abandon();
    if (decoder_ == nullptr && nothing_to_decode()) {  // finish() without audio: no decoder needed
      close();
      return deliver_final(std::string());
    }
    if (decoder_ == nullptr) {
      decoder_ = core_->acquire(shared_from_this());
      if (decoder_ == nullptr) return;  // waiting for a decoder; release() will requeue us
    }
    if (!utterance_started_) start_utterance();
    if (t_first_turn_after_finish_ == time_point{}) {
      std::lock_guard lock(mutex_);
      if (finish_requested_) t_first_turn_after_finish_ = steady_clock::now();
    }

    std::size_t budget = core_->slice_samples;
    for (;;) {
      bool finishing = false;
      bool urgent = false;  // finish() was called: decode the rest without yielding
      {
        std::lock_guard lock(mutex_);
        urgent = finish_requested_;
        const std::size_t available = pending_.size() - pending_off_;
        const std::size_t take = std::min({available, core_->piece_samples, budget});
        piece_.assign(pending_.begin() + static_cast<std::ptrdiff_t>(pending_off_),
                      pending_.begin() + static_cast<std::ptrdiff_t>(pending_off_ + take));
        pending_off_ += take;
        if (pending_off_ == pending_.size()) {
          pending_.clear();
          pending_off_ = 0;
        }
        if (piece_.empty()) {
          if (!finish_requested_) {
            queued_ = false;  // idle until feed()/finish()/cancel() queues us again
            return;
          }
          finishing = true;
        }
      }
      if (finishing) return finalize();

      decode(piece_);
      decoded_samples_ += piece_.size();
      core_->decoded_samples.fetch_add(piece_.size(), std::memory_order_relaxed);
      budget -= piece_.size();
      if (cancelled()) return abandon();
      if (!urgent) maybe_partial();  // after finish() only the final matters
      if (budget == 0 && urgent) {
        budget = core_->slice_samples;  // the endpoint is decided: the final comes first
      } else if (budget == 0) {
        // Yield to other streams (still queued_). Refused only while shutting down.
        if (!core_->schedule(shared_from_this())) on_shutdown();
        return;
      }
    }
  }

  /// The recognizer is gone: no more decoding; answer a pending finish().
  void on_shutdown() {
    if (finish_requested())
      deliver_final(make_error(errc::unavailable, "pocketsphinx: the recognizer has shut down"));
  }

 private:
  bool nothing_to_decode() {
    std::lock_guard lock(mutex_);
    return finish_requested_ && pending_.size() == pending_off_ && !utterance_started_;
  }

  void start_utterance() {
    ps_decoder_t* ps = decoder_->ps;
    cmn_ = nullptr;
    const auto mode = core_->config.cmn;
    if (mode != cmn_mode::carry && !decoder_->cmn_prior.empty()) {
      if (feat_t* feat = ps_get_feat(ps); feat != nullptr && feat->cmn_struct != nullptr) {
        cmn_t* cmn = feat->cmn_struct;
        prior_.assign(decoder_->cmn_prior.begin(), decoder_->cmn_prior.end());
        if (mode == cmn_mode::adaptive) {
          std::lock_guard lock(core_->cmn_mutex);
          // The channel's own prior once it has one; a new channel starts from the shared one.
          const auto it = channel_ != 0 ? core_->cmn_channels.find(channel_) : core_->cmn_channels.end();
          if (it != core_->cmn_channels.end() && it->second.mean.size() == prior_.size()) {
            prior_ = it->second.mean;
            it->second.last_used = ++core_->cmn_clock;
          } else if (core_->cmn_shared_prior.size() == prior_.size()) {
            prior_ = core_->cmn_shared_prior;
          }
        }
        // The prior mean, worth `prior_weight_` frames of evidence (cmn_t is a public sphinxbase
        // struct: current mean, running sum, frame count).
        prior_weight_ = mode == cmn_mode::fixed ? 500 : std::max(1, core_->config.cmn_prior_frames);
        for (int i = 0; i < cmn->veclen; ++i) {
          const auto v = static_cast<mfcc_t>(prior_[static_cast<std::size_t>(i)]);
          cmn->cmn_mean[i] = v;
          cmn->sum[i] = v * static_cast<mfcc_t>(prior_weight_);
        }
        cmn->nframe = prior_weight_;
        cmn_window_shifted_ = false;
        if (mode != cmn_mode::fixed) cmn_ = cmn;
      }
    }
    // pocketsphinx's front-end keeps a noise estimate (-remove_noise) and a silence detector
    // level across utterances until the stream restarts: restart it, so that what the previous
    // user of this pooled decoder said (another session) changes nothing here.
    if (mode != cmn_mode::carry && ps_start_stream(ps) < 0) failed_ = true;
    if (ps_start_utt(ps) < 0) failed_ = true;
    utterance_started_ = true;
  }

  /// cmn_mode::adaptive: move the shared prior towards this utterance's mean (before ps_end_utt).
  void adapt_shared_prior() {
    if (core_->config.cmn != cmn_mode::adaptive || cmn_ == nullptr || failed_) return;
    const int n_data = cmn_->nframe - prior_weight_;
    std::vector<float> mean(static_cast<std::size_t>(cmn_->veclen));
    if (!cmn_window_shifted_) {
      if (n_data < 20) return;  // too little speech to say anything about the channel
      for (int i = 0; i < cmn_->veclen; ++i)
        mean[static_cast<std::size_t>(i)] =
            static_cast<float>((cmn_->sum[i] - prior_[static_cast<std::size_t>(i)] * prior_weight_) / n_data);
    } else {  // a long utterance: sphinxbase rescaled its window; the current mean is data by now
      for (int i = 0; i < cmn_->veclen; ++i) mean[static_cast<std::size_t>(i)] = static_cast<float>(cmn_->cmn_mean[i]);
    }
    const auto rate = static_cast<float>(std::clamp(core_->config.cmn_adapt_rate, 0.0, 1.0));
    std::lock_guard lock(core_->cmn_mutex);
    auto& shared = core_->cmn_shared_prior;
    if (shared.size() != mean.size()) return;
    if (channel_ != 0) {
      // The channel's prior follows its own utterances quickly (an average over the first ones,
      // then the shared rate): it is one microphone, so its history is the best guess.
      auto [it, added] = core_->cmn_channels.try_emplace(channel_);
      auto& c = it->second;
      if (added || c.mean.size() != mean.size()) c = {prior_, 0, 0};
      const float channel_rate = std::max(rate, 1.0f / static_cast<float>(c.n_utterances + 2));
      for (std::size_t i = 0; i < mean.size(); ++i) c.mean[i] = (1.0f - channel_rate) * c.mean[i] + channel_rate * mean[i];
      ++c.n_utterances;
      c.last_used = ++core_->cmn_clock;
      if (core_->cmn_channels.size() > pocketsphinx_recognizer::core::k_max_channels) {
        auto oldest = core_->cmn_channels.begin();
        for (auto j = core_->cmn_channels.begin(); j != core_->cmn_channels.end(); ++j) {
          if (j->second.last_used < oldest->second.last_used) oldest = j;
        }
        core_->cmn_channels.erase(oldest);
      }
    }
    for (std::size_t i = 0; i < shared.size(); ++i) shared[i] = (1.0f - rate) * shared[i] + rate * mean[i];
  }

  /// Decodes `samples` in 20 ms steps (the same steps however the audio arrived, so results do
  /// not depend on pacing), updating the running cepstral mean after each.
  void decode(std::span<const std::int16_t> samples) {
    constexpr std::size_t step = 320;
    for (std::size_t k = 0; k < samples.size() && !failed_; k += step) {
      const std::size_t n = std::min(step, samples.size() - k);
      if (ps_process_raw(decoder_->ps, samples.data() + k, n, FALSE, FALSE) < 0) failed_ = true;
      if (cmn_ != nullptr) {
        const int before = cmn_->nframe;
        cmn_live_update(cmn_);
        if (cmn_->nframe < before) cmn_window_shifted_ = true;
      }
    }
  }

  void maybe_partial() {
    if (!core_->config.partials || failed_ || decoded_samples_ < next_partial_at_) return;
    const std::size_t every = core_->piece_samples;
    next_partial_at_ = (decoded_samples_ / every + 1) * every;
    std::string text = hypothesis(decoder_->ps);
    const double stability = tracker_.update(text);
    if (text.empty()) return;
    if (text == last_partial_ && tracker_.stable_words() == last_stable_words_) return;
    last_partial_ = text;
    last_stable_words_ = tracker_.stable_words();
    core_->n_partials.fetch_add(1, std::memory_order_relaxed);
    deliver_partial(std::move(text), stability);
  }

  void finalize() {
    adapt_shared_prior();
    const auto t_end_utt = steady_clock::now();
    const double cpu_end_utt = thread_cpu_ms();
    const int rc = ps_end_utt(decoder_->ps);  // flushes the last frames; always ends the utterance
    result<std::string> text = std::string();
    if (failed_ || rc < 0) {
      text = make_error(errc::engine_failure, "pocketsphinx: decoding failed");
    } else {
      int32 score = 0;
      const char* hyp = ps_get_hyp(decoder_->ps, &score);
      text = hyp ? std::string(hyp) : std::string();
      detail_.text = *text;
      detail_.path_score = score;
      detail_.n_frames = ps_get_n_frames(decoder_->ps);
    }
    {
      std::lock_guard lock(mutex_);
      const auto t_turn = t_first_turn_after_finish_ == time_point{} ? t_end_utt : t_first_turn_after_finish_;
      detail_.backlog_ms = samples_to_ms(static_cast<media_time>(backlog_at_finish_));
      detail_.wait_ms = to_ms(t_turn - t_finish_);
      detail_.catch_up_ms = to_ms(t_end_utt - t_turn);
      detail_.end_utt_ms = to_ms(steady_clock::now() - t_end_utt);
      detail_.end_utt_cpu_ms = thread_cpu_ms() - cpu_end_utt;
    }
    utterance_started_ = false;
    give_back_decoder();
    close();
    deliver_final(std::move(text));
  }

  void abandon() {
    if (decoder_ != nullptr && utterance_started_) ps_end_utt(decoder_->ps);  // resets the decoder
    utterance_started_ = false;
    give_back_decoder();
    close();
  }

  void give_back_decoder() {
    if (decoder_ == nullptr) return;
    decoder* d = decoder_;
    decoder_ = nullptr;
    core_->release(d);
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    queued_ = false;
    pending_.clear();
    pending_off_ = 0;
  }

  void deliver_partial(std::string text, double stability) {
    std::lock_guard lock(callback_mutex_);
    if (cancelled() || !events_.on_partial) return;
    callback_thread_.store(std::this_thread::get_id(), std::memory_order_release);
    events_.on_partial(std::move(text), stability);
    callback_thread_.store(std::thread::id(), std::memory_order_release);
  }

  void deliver_final(result<std::string> text) {
    std::lock_guard lock(callback_mutex_);
    if (final_delivered_) return;
    final_delivered_ = true;
    core_->n_finals.fetch_add(1, std::memory_order_relaxed);
    if (cancelled() || !events_.on_final) return;
    callback_thread_.store(std::this_thread::get_id(), std::memory_order_release);
    auto on_final = std::move(events_.on_final);
    events_ = {};
    if (on_detail_ && text) on_detail_(detail_);
    on_detail_ = nullptr;
    on_final(std::move(text));
    callback_thread_.store(std::thread::id(), std::memory_order_release);
  }

  std::shared_ptr<pocketsphinx_recognizer::core> core_;

  // Caller and worker, under mutex_.
  std::mutex mutex_;
  std::vector<std::int16_t> pending_;
  std::size_t pending_off_ = 0;
  bool finish_requested_ = false;
  time_point t_finish_{};                   // when finish() was called
  std::size_t backlog_at_finish_ = 0;       // samples not yet decoded then
  time_point t_first_turn_after_finish_{};  // a worker's first turn after finish() (worker-set)
  bool queued_ = false;  // in the ready queue, the waiting list, or running on a worker
  bool closed_ = false;  // final delivered or abandoned: no more work
  std::atomic<bool> cancelled_{false};

  // Worker only.
  decoder* decoder_ = nullptr;
  bool utterance_started_ = false;
  bool failed_ = false;
  cmn_t* cmn_ = nullptr;  // the decoder's CMN state, when updated while streaming
  std::vector<float> prior_;  // the prior mean this utterance started from
  int prior_weight_ = 0;
  bool cmn_window_shifted_ = false;
  std::size_t decoded_samples_ = 0;
  std::size_t next_partial_at_ = 0;
  std::vector<std::int16_t> piece_;
  partial_tracker tracker_;
  std::string last_partial_;
  std::size_t last_stable_words_ = 0;

  // Callbacks.
  std::mutex callback_mutex_;
  engine::recognizer_events events_;
  final_detail_fn on_detail_;
  const std::uint64_t channel_ = events_.channel;  // kept: events_ is cleared once final
  final_detail detail_;  // written by the worker before deliver_final, read inside it
  bool final_delivered_ = false;
  std::atomic<std::thread::id> callback_thread_{};
};

// The caller's handle: destroying it cancels the utterance; the state lives on until the worker
// lets go of it.
class stream_handle final : public engine::recognizer_stream {
 public:
  explicit stream_handle(std::shared_ptr<stream_state> s) : state_(std::move(s)) {}
  ~stream_handle() override { state_->cancel(); }
  void feed(std::span<const std::int16_t> samples) override { state_->feed(samples); }
  void finish() override { state_->finish(); }
  void cancel() override { state_->cancel(); }

 private:
  std::shared_ptr<stream_state> state_;
};

}  // namespace

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

// ---------------------------------------------------------------------------------------------
// pocketsphinx_recognizer

pocketsphinx_recognizer::pocketsphinx_recognizer(std::shared_ptr<core> c) : core_(std::move(c)) {}

pocketsphinx_recognizer::~pocketsphinx_recognizer() { core_->shutdown(); }

engine::recognizer_caps pocketsphinx_recognizer::caps() const {
  return {k_input_rate_hz, true, core_->config.partials};
}

const pocketsphinx_startup& pocketsphinx_recognizer::startup() const { return core_->startup; }
const pocketsphinx_config& pocketsphinx_recognizer::config() const { return core_->config; }

pocketsphinx_stats pocketsphinx_recognizer::stats() const {
  pocketsphinx_stats s;
  s.n_opened = core_->n_opened.load();
  s.n_finals = core_->n_finals.load();
  s.n_cancelled = core_->n_cancelled.load();
  s.n_partials = core_->n_partials.load();
  s.n_waited_for_decoder = core_->n_waited.load();
  s.n_dropped_samples = core_->n_dropped.load();
  s.audio_ms = samples_to_ms(static_cast<media_time>(core_->decoded_samples.load()));
  s.cpu_ms = static_cast<double>(core_->cpu_us.load()) / 1000.0;
  return s;
}

result<std::unique_ptr<engine::recognizer_stream>> pocketsphinx_recognizer::open(engine::recognizer_events events) {
  return open(std::move(events), nullptr);
}

result<std::unique_ptr<engine::recognizer_stream>> pocketsphinx_recognizer::open(engine::recognizer_events events,
                                                                                 final_detail_fn on_detail) {
  core_->n_opened.fetch_add(1, std::memory_order_relaxed);
  auto state = std::make_shared<stream_state>(core_, std::move(events), std::move(on_detail));
  return std::unique_ptr<engine::recognizer_stream>(std::make_unique<stream_handle>(std::move(state)));
}

result<std::shared_ptr<pocketsphinx_recognizer>> pocketsphinx_recognizer::create(pocketsphinx_config config) {
  const auto t0 = steady_clock::now();
  silence_sphinx_log();

  // Validate before loading anything.
  const std::string am = resolve(config.model_dir, config.acoustic_model);
  const std::string lm = resolve(config.model_dir, config.language_model);
  const std::string dict = resolve(config.model_dir, config.dictionary);
  std::error_code ec;
  if (!fs::is_directory(config.model_dir, ec))
    return make_error(errc::not_found, "pocketsphinx: model folder not found: " + config.model_dir);
  if (!fs::is_directory(am, ec) || !fs::exists(fs::path(am) / "mdef", ec))
    return make_error(errc::not_found, "pocketsphinx: acoustic model not found: " + am);
  if (!fs::is_regular_file(dict, ec))
    return make_error(errc::not_found, "pocketsphinx: dictionary not found: " + dict);
  if (!fs::is_regular_file(lm, ec))
    return make_error(errc::not_found, "pocketsphinx: language model not found: " + lm);
  if (!(config.domain_weight > 0.0 && config.domain_weight < 1.0) && config.bias == bias_mode::interpolate)
    return make_error(errc::invalid_argument, "pocketsphinx: domain_weight must be in (0, 1)");
  if (config.partial_every_ms < 10.0)
    return make_error(errc::invalid_argument, "pocketsphinx: partial_every_ms must be at least 10");
  if (config.language_weight < 0.0 || config.language_weight > 50.0)
    return make_error(errc::invalid_argument, "pocketsphinx: language_weight must be in [0, 50]");
  if (config.max_words_per_frame == 0 || config.max_words_per_frame < -1)
    return make_error(errc::invalid_argument, "pocketsphinx: max_words_per_frame must be positive or -1");
  if (config.lookahead_frames < 0)
    return make_error(errc::invalid_argument, "pocketsphinx: lookahead_frames must be 0 or more");
  if (config.max_hmms_per_frame == 0 || config.max_hmms_per_frame < -1)
    return make_error(errc::invalid_argument, "pocketsphinx: max_hmms_per_frame must be positive or -1");
  if (config.n_workers < 0 || config.n_decoders < 0)
    return make_error(errc::invalid_argument, "pocketsphinx: n_workers and n_decoders must not be negative");

  auto c = std::make_shared<core>();
  c->config = config;
  auto& cfg = c->config;
  if (cfg.n_workers == 0) cfg.n_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (cfg.n_decoders == 0) cfg.n_decoders = cfg.n_workers;
  c->piece_samples = static_cast<std::size_t>(ms_to_samples(cfg.partial_every_ms));
  c->slice_samples = std::max<std::size_t>(c->piece_samples, static_cast<std::size_t>(ms_to_samples(1000.0)));
  c->max_pending_samples = std::max<std::size_t>(c->piece_samples, static_cast<std::size_t>(ms_to_samples(cfg.max_pending_ms)));

  // The phrase model and the pronunciations of its unknown words (computed once, shared by all
  // decoders through the same ARPA file and word list).
  lm_plan plan;
  plan.generic_path = lm;
  plan.bias = cfg.domain_phrases.empty() ? bias_mode::none : cfg.bias;
  plan.weight = cfg.domain_weight;
  std::vector<std::vector<std::string>> sentences;
  std::set<std::string> vocab;
  for (const auto& p : cfg.domain_phrases) {
    auto words = phrase_words(p);
    for (const auto& w : words) vocab.insert(w);
    if (!words.empty()) sentences.push_back(std::move(words));
  }
  if (sentences.empty()) plan.bias = bias_mode::none;

  // Which phrase words does the dictionary lack? Read the word column of the dictionary once.
  if (!vocab.empty()) {
    std::set<std::string> known;
    std::ifstream in(dict);
    std::string line;
    while (std::getline(in, line)) {
      const auto sp = line.find_first_of(" \t");
      std::string w = line.substr(0, sp);
      if (const auto paren = w.find('('); paren != std::string::npos) w.resize(paren);
      if (vocab.count(w)) known.insert(w);
    }
    for (const auto& w : vocab) {
      if (known.count(w)) continue;
      plan.oov.push_back(guess_pronunciation(w, cfg.espeak_ng));
    }
  }

  std::string arpa_path;
  struct temp_file {
    std::string path;
    ~temp_file() {
      if (!path.empty()) std::remove(path.c_str());
    }
  } arpa_file;
  if (plan.bias != bias_mode::none) {
    const std::string arpa = build_arpa(sentences);
    char name[] = "/tmp/parley-domain-lm-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) return make_error(errc::io_error, "pocketsphinx: cannot create a temporary file for the domain LM");
    arpa_file.path = name;
    const auto* data = arpa.data();
    std::size_t left = arpa.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, data, left);
      if (n <= 0) {
        ::close(fd);
        return make_error(errc::io_error, "pocketsphinx: cannot write the domain LM");
      }
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
    plan.domain_arpa_path = arpa_file.path;
  }

  // The decoder pool, loaded one after the other (measured: memory and time per decoder).
  double init_ms_total = 0.0, rss_mb_total = 0.0;
  for (int i = 0; i < cfg.n_decoders; ++i) {
    const double rss0 = resident_mb();
    const auto d0 = steady_clock::now();
    auto d = make_decoder(cfg, plan);
    if (!d) return d.error();
    init_ms_total += to_ms(steady_clock::now() - d0);
    rss_mb_total += resident_mb() - rss0;
    if (c->cmn_shared_prior.empty())
      c->cmn_shared_prior.assign((*d)->cmn_prior.begin(), (*d)->cmn_prior.end());
    c->free_decoders.push_back(d->get());
    c->decoders.push_back(std::move(*d));
  }

  auto& st = c->startup;
  st.n_workers = cfg.n_workers;
  st.n_decoders = cfg.n_decoders;
  st.decoder_init_ms = init_ms_total / cfg.n_decoders;
  st.decoder_rss_mb = rss_mb_total / cfg.n_decoders;
  st.bias = plan.bias;
  st.domain_weight = plan.bias == bias_mode::interpolate ? plan.weight : (plan.bias == bias_mode::domain_only ? 1.0 : 0.0);
  st.n_domain_phrases = sentences.size();
  st.n_domain_words = vocab.size();
  st.added_words = plan.oov;

  core* raw = c.get();
  for (int i = 0; i < cfg.n_workers; ++i) raw->threads.emplace_back([raw] { raw->worker_loop(); });
  st.startup_ms = to_ms(steady_clock::now() - t0);
  PARLEY_LOG(info, "pocketsphinx: " << st.n_decoders << " decoders, " << st.n_workers << " workers, bias "
                                    << to_string(st.bias) << ", " << st.added_words.size()
                                    << " words given pronunciations, ready in " << static_cast<int>(st.startup_ms)
                                    << " ms");
  return std::shared_ptr<pocketsphinx_recognizer>(new pocketsphinx_recognizer(std::move(c)));
}

// ---------------------------------------------------------------------------------------------
// pocketsphinx_batch_decoder

struct pocketsphinx_batch_decoder::impl {
  ps_decoder_t* ps = nullptr;
  ~impl() {
    if (ps) ps_free(ps);
  }
};

pocketsphinx_batch_decoder::pocketsphinx_batch_decoder(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
pocketsphinx_batch_decoder::~pocketsphinx_batch_decoder() = default;

result<std::unique_ptr<pocketsphinx_batch_decoder>> pocketsphinx_batch_decoder::create(const std::string& model_dir) {
  silence_sphinx_log();
  const std::string am = resolve(model_dir, "en-us");
  const std::string lm = resolve(model_dir, "en-us.lm.bin");
  const std::string dict = resolve(model_dir, "cmudict-en-us.dict");
  std::error_code ec;
  for (const auto& p : {am, lm, dict})
    if (!fs::exists(p, ec)) return make_error(errc::not_found, "pocketsphinx: model file not found: " + p);
  cmdln config;
  if (auto s = parse_config(config, {{"-hmm", am}, {"-lm", lm}, {"-dict", dict}}); !s) return s.error();
  auto p = std::make_unique<impl>();
  p->ps = ps_init(config.p);
  if (p->ps == nullptr) return make_error(errc::engine_failure, "pocketsphinx: cannot load the model in " + model_dir);
  return std::unique_ptr<pocketsphinx_batch_decoder>(new pocketsphinx_batch_decoder(std::move(p)));
}

result<batch_result> pocketsphinx_batch_decoder::decode(std::span<const std::int16_t> samples) {
  batch_result r;
  r.audio_ms = samples_to_ms(static_cast<media_time>(samples.size()));
  const double cpu0 = thread_cpu_ms();
  if (ps_start_utt(impl_->ps) < 0) return make_error(errc::engine_failure, "pocketsphinx: cannot start an utterance");
  // full_utt = TRUE: the whole clip at once, so CMN is computed over the whole utterance (batch).
  const int rc = ps_process_raw(impl_->ps, samples.data(), samples.size(), FALSE, TRUE);
  const int end_rc = ps_end_utt(impl_->ps);
  if (rc < 0 || end_rc < 0) return make_error(errc::engine_failure, "pocketsphinx: decoding failed");
  r.text = hypothesis(impl_->ps);
  r.cpu_ms = thread_cpu_ms() - cpu0;
  return r;
}

}  // namespace parley::pocketsphinx
