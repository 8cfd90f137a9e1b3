#include "parley/agent/filler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <future>
#include <mutex>
#include <sstream>

namespace parley::agent {

double filler_clip::duration_ms() const {
  return sample_rate_hz > 0 ? samples_to_ms(static_cast<media_time>(pcm.size()), sample_rate_hz) : 0.0;
}

result<filler_clip> join_words(std::string text, int sample_rate_hz, const std::vector<std::vector<std::int16_t>>& words,
                               double gap_ms, double silence_level, double margin_ms) {
  if (sample_rate_hz <= 0) return make_error(errc::invalid_argument, "filler: no sample rate");
  if (words.empty()) return make_error(errc::invalid_argument, "filler \"" + text + "\" has no words");
  const auto threshold = static_cast<int>(std::lround(std::clamp(silence_level, 0.0, 1.0) * 32767.0));
  const auto margin = static_cast<std::size_t>(ms_to_samples(std::max(0.0, margin_ms), sample_rate_hz));
  const auto gap = static_cast<std::size_t>(ms_to_samples(std::max(0.0, gap_ms), sample_rate_hz));
  filler_clip clip{std::move(text), sample_rate_hz, {}, {}};
  for (const auto& pcm : words) {
    const auto loud = [&](std::int16_t s) { return std::abs(static_cast<int>(s)) > threshold; };
    const auto first = std::find_if(pcm.begin(), pcm.end(), loud);
    if (first == pcm.end()) return make_error(errc::engine_failure, "filler \"" + clip.text + "\": a word has no audio");
    const auto last = std::find_if(pcm.rbegin(), pcm.rend(), loud).base();  // one past the last loud sample
    const auto begin = static_cast<std::size_t>(first - pcm.begin());
    const auto end = static_cast<std::size_t>(last - pcm.begin());
    const std::size_t from = begin > margin ? begin - margin : 0;
    const std::size_t to = std::min(pcm.size(), end + margin);
    if (!clip.pcm.empty()) clip.pcm.insert(clip.pcm.end(), gap, 0);
    clip.pcm.insert(clip.pcm.end(), pcm.begin() + static_cast<std::ptrdiff_t>(from),
                    pcm.begin() + static_cast<std::ptrdiff_t>(to));
    clip.word_ends.push_back(clip.pcm.size());
  }
  return clip;
}

namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(std::move(w));
  return out;
}

result<std::vector<std::int16_t>> synthesize_blocking(engine::synthesizer& tts, const std::string& text,
                                                      std::chrono::milliseconds timeout) {
  struct state {
    std::mutex mutex;
    std::vector<std::int16_t> pcm;
    std::promise<status> done;
  };
  auto s = std::make_shared<state>();  // outlives a timed-out request
  tts.synthesize(text,
                 {.on_audio =
                      [s](std::span<const std::int16_t> chunk) {
                        std::lock_guard lock(s->mutex);
                        s->pcm.insert(s->pcm.end(), chunk.begin(), chunk.end());
                      },
                  .on_done = [s](status st) { s->done.set_value(std::move(st)); }},
                 std::stop_token{});
  auto f = s->done.get_future();
  if (f.wait_for(timeout) != std::future_status::ready) {
    return make_error(errc::timeout, "filler: synthesizing \"" + text + "\" took too long");
  }
  if (auto st = f.get(); !st) return st.error();
  std::lock_guard lock(s->mutex);
  return std::move(s->pcm);
}

result<filler_clip> build_clip(engine::synthesizer& tts, const std::string& phrase, double gap_ms,
                               std::chrono::milliseconds timeout) {
  std::vector<std::vector<std::int16_t>> words;
  for (const auto& w : split_words(phrase)) {
    auto pcm = synthesize_blocking(tts, w, timeout);
    if (!pcm) return pcm.error();
    words.push_back(std::move(*pcm));
  }
  return join_words(phrase, tts.caps().sample_rate_hz, words, gap_ms);
}

}  // namespace

result<std::shared_ptr<const filler_bank>> build_filler_bank(engine::synthesizer& tts, const filler_phrases& phrases,
                                                             double gap_ms, std::chrono::milliseconds timeout) {
  auto waiting = build_clip(tts, phrases.waiting, gap_ms, timeout);
  if (!waiting) return waiting.error();
  auto tool = build_clip(tts, phrases.tool, gap_ms, timeout);
  if (!tool) return tool.error();
  auto apology = build_clip(tts, phrases.apology, gap_ms, timeout);
  if (!apology) return apology.error();
  return std::make_shared<const filler_bank>(filler_bank{std::move(*waiting), std::move(*tool), std::move(*apology)});
}

// ---- filler_player ---------------------------------------------------------------------------

filler_player::filler_player(std::shared_ptr<const filler_bank> bank, filler_kind kind, double lead_ms)
    : bank_(std::move(bank)), kind_(kind), lead_ms_(std::max(0.0, lead_ms)) {}

void filler_player::start(time_point t) {
  if (!t_start_) t_start_ = t;
}

std::optional<time_point> filler_player::next_due() const {
  if (!t_start_ || done()) return std::nullopt;
  if (n_sent_ == 0) return *t_start_;
  const auto end_of_previous = samples_to_ms(static_cast<media_time>(clip().word_ends[n_sent_ - 1]), clip().sample_rate_hz);
  return *t_start_ + from_ms(std::max(0.0, end_of_previous - lead_ms_));
}

std::optional<filler_player::word> filler_player::next_word(time_point now) {
  const auto due = next_due();
  if (!due || *due > now) return std::nullopt;
  const std::size_t begin = n_samples_sent();
  word w{n_sent_, begin, clip().word_ends[n_sent_]};
  ++n_sent_;
  return w;
}

std::span<const std::int16_t> filler_player::samples(const word& w) const {
  return std::span<const std::int16_t>(clip().pcm).subspan(w.begin, w.end - w.begin);
}

bool filler_player::cut() {
  const bool words_left = !done();
  cut_ = true;
  return words_left;
}

std::optional<time_point> filler_player::t_end() const {
  if (!t_start_) return std::nullopt;
  return *t_start_ + from_ms(samples_to_ms(static_cast<media_time>(n_samples_sent()), clip().sample_rate_hz));
}

}  // namespace parley::agent
