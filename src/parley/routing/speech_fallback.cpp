// routing/speech_fallback — implementation. See speech_fallback.hpp.
#include "parley/routing/speech_fallback.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cmath>
#include <mutex>
#include <optional>
#include <stop_token>

#include "parley/audio/resampler.hpp"
#include "parley/routing/post_owned.hpp"

namespace parley::routing {

namespace asio = boost::asio;
using detail::post_owned;
using strand_type = asio::strand<asio::any_io_executor>;

namespace {

template <class Engine>
status check_chain(const speech_fallback_config& config, const std::vector<speech_provider<Engine>>& chain) {
  if (!config.executor) return make_error(errc::invalid_argument, "speech fallback: no executor");
  if (chain.empty()) return make_error(errc::invalid_argument, "speech fallback: no provider");
  for (const auto& p : chain) {
    if (!p.engine || !p.health) {
      return make_error(errc::invalid_argument, "speech fallback: provider '" + p.name + "' has no engine or health");
    }
  }
  return {};
}

/// The first provider to try: the first healthy one (or one whose breaker grants a probe now);
/// the last is always eligible.
template <class Engine>
std::size_t first_choice(const std::vector<speech_provider<Engine>>& chain) {
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    if (chain[i].health->healthy() || chain[i].health->should_probe()) return i;
  }
  return chain.size() - 1;
}

double ms_since(time_point t) { return to_ms(steady_clock::now() - t); }

}  // namespace

std::string words_not_yet_heard(std::string_view text, double heard_share) {
  if (!(heard_share > 0.0)) return std::string(text);
  auto at = static_cast<std::size_t>(std::ceil(std::min(heard_share, 1.0) * static_cast<double>(text.size())));
  if (at >= text.size()) return {};
  // Inside a word (or on its first letter, with more before it): that word was being spoken.
  if (at > 0 && text[at - 1] != ' ') {
    while (at < text.size() && text[at] != ' ') ++at;
  }
  while (at < text.size() && text[at] == ' ') ++at;
  return std::string(text.substr(at));
}

// ---- the recognizer -----------------------------------------------------------------------------

struct fallback_recognizer::shared {
  speech_fallback_config config;
  std::vector<speech_provider<engine::recognizer>> chain;
};

namespace {

/// One utterance across the chain. Its decisions run on `strand`; `mutex` (recursive: an inner
/// engine may answer inside finish()) guards the state against the caller's feed/finish/cancel.
struct utterance : std::enable_shared_from_this<utterance> {
  utterance(std::shared_ptr<fallback_recognizer::shared> s, engine::recognizer_events ev)
      : shared(std::move(s)), strand(asio::make_strand(shared->config.executor)), timer(strand), events(std::move(ev)) {}

  std::shared_ptr<fallback_recognizer::shared> shared;
  strand_type strand;
  asio::steady_timer timer;
  std::recursive_mutex mutex;
  engine::recognizer_events events;  // the caller's
  bool closed = false;               // cancelled, or the final transcript delivered
  bool finished = false;             // finish() was called
  bool opening = true;               // inside open(): a failure is its error, not a callback
  std::vector<std::int16_t> audio;   // the utterance so far, for a fallback
  std::size_t index = 0;             // the provider in use
  unsigned attempt = 0;              // bumped per provider tried: late answers of earlier ones are dropped
  std::unique_ptr<engine::recognizer_stream> inner;
  time_point t_finish{};
  time_point t_fallback{};
  speech_outcome outcome;

  // All under `mutex`.
  void start(std::size_t i) {
    index = i;
    const unsigned a = ++attempt;
    std::weak_ptr<utterance> weak = weak_from_this();
    auto opened = shared->chain[i].engine->open(
        {.on_partial =
             [weak, a](std::string text, double stability) {
               if (auto u = weak.lock()) {
                 post_owned(std::move(u), u->strand, [a, text = std::move(text), stability](auto& self) mutable {
                   std::lock_guard lock(self->mutex);
                   if (!self->closed && self->attempt == a && self->events.on_partial) self->events.on_partial(std::move(text), stability);
                 });
               }
             },
         .on_final =
             [weak, a](result<engine::recognized> r) {
               if (auto u = weak.lock()) {
                 post_owned(std::move(u), u->strand, [a, r = std::move(r)](auto& self) mutable { self->on_inner_final(a, std::move(r)); });
               }
             },
         .channel = events.channel});
    if (!opened) {
      shared->chain[i].health->record_error(opened.error().code);
      fall_back(opened.error().describe());
      return;
    }
    inner = std::move(*opened);
    if (!audio.empty()) inner->feed(audio);
    if (finished) {
      inner->finish();
      arm_budget();
    }
  }

  void arm_budget() {
    if (shared->config.budget_ms <= 0.0 || index + 1 >= shared->chain.size()) return;
    timer.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(shared->config.budget_ms * 1000.0)));
    timer.async_wait([self = shared_from_this(), a = attempt](boost::system::error_code ec) {
      if (ec) return;
      std::lock_guard lock(self->mutex);
      if (self->closed || self->attempt != a) return;
      self->shared->chain[self->index].health->record_error(errc::timeout);
      self->fall_back("no transcript within " + std::to_string(static_cast<long>(self->shared->config.budget_ms)) + " ms");
    });
  }

  void on_inner_final(unsigned a, result<engine::recognized> r) {
    std::lock_guard lock(mutex);
    if (closed || attempt != a) return;
    timer.cancel();
    auto& health = *shared->chain[index].health;
    if (r) {
      health.record_ttft_ms(ms_since(t_finish));
      deliver(std::move(r));
      return;
    }
    health.record_error(r.error().code);
    fall_back(r.error().describe());
  }

  void fall_back(std::string why) {
    if (inner) inner->cancel();
    inner.reset();
    if (!outcome.fell_back) {
      outcome.fell_back = true;
      outcome.why = why;
      t_fallback = steady_clock::now();
      outcome.lost_ms = finished ? to_ms(t_fallback - t_finish) : 0.0;
    }
    if (index + 1 >= shared->chain.size()) {
      deliver(make_error(errc::unavailable, "every recognizer failed; the last: " + why));
      return;
    }
    start(index + 1);
  }

  void deliver(result<engine::recognized> r) {
    closed = true;
    outcome.served_by = r ? shared->chain[index].name : "";
    if (shared->config.on_outcome) shared->config.on_outcome(outcome);
    auto on_final = std::move(events.on_final);
    events = {};
    if (on_final && !opening) on_final(std::move(r));
  }
};

class fallback_stream final : public engine::recognizer_stream {
 public:
  explicit fallback_stream(std::shared_ptr<utterance> u) : u_(std::move(u)) {}
  ~fallback_stream() override { cancel(); }

  void feed(std::span<const std::int16_t> samples) override {
    std::lock_guard lock(u_->mutex);
    if (u_->closed || u_->finished) return;
    const auto cap = static_cast<std::size_t>(u_->shared->config.max_utterance_s * 16000.0);
    const auto room = cap - std::min(cap, u_->audio.size());
    u_->audio.insert(u_->audio.end(), samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(std::min(room, samples.size())));
    if (u_->inner) u_->inner->feed(samples);
  }

  void finish() override {
    std::lock_guard lock(u_->mutex);
    if (u_->closed || u_->finished) return;
    u_->finished = true;
    u_->t_finish = steady_clock::now();
    if (u_->inner) {
      u_->inner->finish();
      u_->arm_budget();
    }
  }

  void cancel() override {
    std::lock_guard lock(u_->mutex);
    u_->closed = true;
    u_->events = {};
    if (u_->inner) u_->inner->cancel();
    u_->inner.reset();
    asio::post(u_->strand, [u = u_] { u->timer.cancel(); });
  }

 private:
  std::shared_ptr<utterance> u_;
};

}  // namespace

result<std::shared_ptr<fallback_recognizer>> fallback_recognizer::create(speech_fallback_config config,
                                                                         std::vector<speech_provider<engine::recognizer>> chain) {
  if (auto s = check_chain(config, chain); !s) return s.error();
  const int rate = chain.front().engine->caps().sample_rate_hz;
  for (const auto& p : chain) {
    if (p.engine->caps().sample_rate_hz != rate) {
      return make_error(errc::invalid_argument, "speech fallback: recognizers with different input rates");
    }
  }
  auto state = std::make_shared<shared>();
  state->config = std::move(config);
  state->chain = std::move(chain);
  return std::shared_ptr<fallback_recognizer>(new fallback_recognizer(std::move(state)));
}

std::string fallback_recognizer::name() const {
  std::string n;
  for (const auto& p : state_->chain) n += (n.empty() ? "" : " → ") + p.engine->name();
  return n;
}

engine::recognizer_caps fallback_recognizer::caps() const {
  auto c = state_->chain.front().engine->caps();
  for (const auto& p : state_->chain) c.partials = c.partials || p.engine->caps().partials;
  return c;
}

result<std::unique_ptr<engine::recognizer_stream>> fallback_recognizer::open(engine::recognizer_events events) {
  auto u = std::make_shared<utterance>(state_, std::move(events));
  {
    std::lock_guard lock(u->mutex);
    u->start(first_choice(state_->chain));
    u->opening = false;
    if (u->closed) return make_error(errc::unavailable, "no recognizer could open a stream: " + u->outcome.why);
  }
  return std::unique_ptr<engine::recognizer_stream>(new fallback_stream(std::move(u)));
}

std::optional<double> fallback_recognizer::backlog_ms() const {
  std::optional<double> most;
  for (const auto& p : state_->chain) {
    if (const auto b = p.engine->backlog_ms()) most = std::max(most.value_or(0.0), *b);
  }
  return most;
}

void fallback_recognizer::prepare() {
  for (const auto& p : state_->chain) p.engine->prepare();
}

// ---- the synthesizer ----------------------------------------------------------------------------

struct fallback_synthesizer::shared {
  speech_fallback_config config;
  std::vector<speech_provider<engine::synthesizer>> chain;
  int rate_hz = 16000;  // what callers get: the first provider's rate
};

namespace {

/// One synthesize() across the chain; everything runs on `strand`.
struct segment_request : std::enable_shared_from_this<segment_request> {
  segment_request(std::shared_ptr<fallback_synthesizer::shared> s, std::string t, engine::synthesizer_events ev)
      : shared(std::move(s)), strand(asio::make_strand(shared->config.executor)), timer(strand), text(std::move(t)),
        events(std::move(ev)) {}

  std::shared_ptr<fallback_synthesizer::shared> shared;
  strand_type strand;
  asio::steady_timer timer;
  std::string text;                  // what the provider in use was asked to speak
  engine::synthesizer_events events;
  bool done = false;
  std::size_t index = 0;
  unsigned attempt = 0;
  std::stop_source inner_stop;
  std::optional<audio::resampler> resample;  // the provider's rate → shared->rate_hz
  std::size_t n_samples = 0;                 // of this attempt, at the provider's rate
  time_point t_request{};
  time_point t_first_try{};
  speech_outcome outcome;
  std::optional<std::stop_callback<std::function<void()>>> on_stop;
  std::shared_ptr<segment_request> keep_alive;  // the request owns itself until it finishes

  void start(std::size_t i) {
    index = i;
    const unsigned a = ++attempt;
    inner_stop = std::stop_source{};
    n_samples = 0;
    t_request = steady_clock::now();
    const auto& provider = shared->chain[i];
    const int from = provider.engine->caps().sample_rate_hz;
    resample.reset();
    if (from != shared->rate_hz) {
      if (auto rs = audio::resampler::create(from, shared->rate_hz)) resample.emplace(std::move(*rs));
    }
    arm_budget();
    // The provider's callbacks hold the request weakly; it owns itself until it finishes (see
    // routing/post_owned.hpp for why).
    std::weak_ptr<segment_request> weak = weak_from_this();
    provider.engine->synthesize(
        text,
        {.on_audio =
             [weak, a](std::span<const std::int16_t> pcm) {
               if (auto r = weak.lock()) {
                 post_owned(std::move(r), r->strand, [a, pcm = std::vector<std::int16_t>(pcm.begin(), pcm.end())](auto& self) {
                   self->on_audio(a, pcm);
                 });
               }
             },
         .on_done =
             [weak, a](status s) {
               if (auto r = weak.lock()) {
                 post_owned(std::move(r), r->strand, [a, s = std::move(s)](auto& self) mutable { self->on_inner_done(a, std::move(s)); });
               }
             }},
        inner_stop.get_token());
  }

  void arm_budget() {
    if (shared->config.budget_ms <= 0.0 || index + 1 >= shared->chain.size()) return;
    timer.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(shared->config.budget_ms * 1000.0)));
    timer.async_wait([self = shared_from_this(), a = attempt](boost::system::error_code ec) {
      if (ec || self->done || self->attempt != a || self->n_samples > 0) return;
      self->shared->chain[self->index].health->record_error(errc::timeout);
      self->fall_back("no audio within " + std::to_string(static_cast<long>(self->shared->config.budget_ms)) + " ms");
    });
  }

  void send(std::span<const std::int16_t> pcm) {
    if (!pcm.empty() && events.on_audio) events.on_audio(pcm);
  }

  void on_audio(unsigned a, const std::vector<std::int16_t>& pcm) {
    if (done || attempt != a || pcm.empty()) return;
    if (n_samples == 0) {
      timer.cancel();
      shared->chain[index].health->record_ttft_ms(ms_since(t_request));
    }
    n_samples += pcm.size();
    if (resample) {
      send(resample->process(pcm));
    } else {
      send(pcm);
    }
  }

  void flush_resampler() {
    if (resample) send(resample->flush());
  }

  void on_inner_done(unsigned a, status s) {
    if (done || attempt != a) return;
    timer.cancel();
    if (s) {
      flush_resampler();
      finish({});
      return;
    }
    // Counted after a first audio too: a voice that dies mid-sentence is not healthy.
    shared->chain[index].health->record_error(s.error().code);
    fall_back(s.error().describe());
  }

  void fall_back(std::string why) {
    inner_stop.request_stop();  // the provider left behind stops (its late answers are dropped)
    if (!outcome.fell_back) {
      outcome.fell_back = true;
      outcome.why = why;
      outcome.lost_ms = ms_since(t_first_try);
    }
    if (index + 1 >= shared->chain.size()) {
      flush_resampler();
      finish(make_error(errc::unavailable, "every voice failed; the last: " + why));
      return;
    }
    // What was heard is never said again: the next voice starts after the words the delivered
    // audio covers.
    const double heard_ms = 1000.0 * static_cast<double>(n_samples) / shared->chain[index].engine->caps().sample_rate_hz;
    flush_resampler();
    if (n_samples > 0) {
      const double share = heard_ms / std::max(1.0, static_cast<double>(text.size()) * shared->config.ms_per_char);
      text = words_not_yet_heard(text, share);
      if (text.empty()) {
        finish({});
        return;
      }
    }
    start(index + 1);
  }

  void finish(status s) {
    if (done) return;
    done = true;
    timer.cancel();
    outcome.served_by = s ? shared->chain[index].name : "";
    if (shared->config.on_outcome && s) shared->config.on_outcome(outcome);
    auto on_done = std::move(events.on_done);
    events = {};
    if (on_done) on_done(std::move(s));
    keep_alive.reset();  // on the strand, inside a handler that still holds the request
  }

  void stop() {
    if (done) return;
    inner_stop.request_stop();
    finish(make_error(errc::cancelled, "cancelled"));
  }
};

}  // namespace

result<std::shared_ptr<fallback_synthesizer>> fallback_synthesizer::create(speech_fallback_config config,
                                                                           std::vector<speech_provider<engine::synthesizer>> chain) {
  if (auto s = check_chain(config, chain); !s) return s.error();
  auto state = std::make_shared<shared>();
  state->rate_hz = chain.front().engine->caps().sample_rate_hz;
  state->config = std::move(config);
  state->chain = std::move(chain);
  return std::shared_ptr<fallback_synthesizer>(new fallback_synthesizer(std::move(state)));
}

std::string fallback_synthesizer::name() const {
  std::string n;
  for (const auto& p : state_->chain) n += (n.empty() ? "" : " → ") + p.engine->name();
  return n;
}

engine::synthesizer_caps fallback_synthesizer::caps() const {
  return {.sample_rate_hz = state_->rate_hz, .streaming = state_->chain.front().engine->caps().streaming};
}

void fallback_synthesizer::prepare() {
  for (const auto& p : state_->chain) p.engine->prepare();
}

void fallback_synthesizer::synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) {
  auto r = std::make_shared<segment_request>(state_, std::move(text), std::move(events));
  r->t_first_try = steady_clock::now();
  r->keep_alive = r;
  r->on_stop.emplace(stop, std::function<void()>([weak = std::weak_ptr(r)] {
                       if (auto self = weak.lock()) post_owned(std::move(self), self->strand, [](auto& owner) { owner->stop(); });
                     }));
  asio::post(r->strand, [r] {
    if (!r->done) r->start(first_choice(r->shared->chain));
  });
}

}  // namespace parley::routing
