// agent/filler — the phrases parley speaks on its own, pre-synthesized with known word
// boundaries: fillers ("One moment.") and the pacing that lets a real reply cut one at a word
// boundary, and the apology a failed reply ends with (agent/reply.hpp), so that no failure of a
// provider is ever silence.
//
// Role: when a latency budget runs out (agent/budget.hpp) the session plays a filler while it
// waits. A filler must never delay or overlap the reply, so it is sent to the client word by word
// at playout pace (`filler_player`): the next word leaves `lead_ms` before the one being heard
// ends. When the reply's first audio is ready the session stops sending words and sends the
// reply at once; the client, which plays what it gets in order, finishes the word it is playing
// and goes straight on to the reply. Nothing overlaps, and the reply is heard at most the rest of
// one word (plus the lead) after it left parley.
// Word boundaries: each word of a filler is synthesized on its own at start-up (through the phrase
// cache's synthesizer), its leading and trailing silence trimmed, and the words joined with a
// short pause (`word_gap_ms`); so every boundary is exact, whatever the synthesizer. Silence
// gaps in a whole-phrase synthesis were tried and rejected: in "One moment." the nasal runs
// through the word boundary with no dip at all, while the stop closures inside "moment" and
// "check" are the deepest dips of the phrase — cutting there would cut words in half.
// Threading: a filler_bank is immutable once built and shared by every session; build it at
// start-up (it blocks). A filler_player is plain state used on one session strand.
// Units: samples at the clip's sample_rate_hz; milliseconds (`_ms`); steady-clock time_points.
//
//   auto bank = agent::build_filler_bank(*tts);              // start-up
//   filler_player p(bank->waiting, options.fillers.lead_ms);  // a budget ran out
//   p.start(now);
//   while (auto w = p.next_word(now)) send(p.samples(*w));    // then wake at *p.next_due()
//   p.cut();                                                  // the reply's audio is ready
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parley/agent/budget.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/engine/synthesizer.hpp"

namespace parley::agent {

/// A filler phrase's audio with its word boundaries.
struct filler_clip {
  std::string text;
  int sample_rate_hz = 0;
  std::vector<std::int16_t> pcm;
  /// Where each word ends (exclusive sample offsets, ascending, the last == pcm.size()); a cut may
  /// only fall on one of these.
  std::vector<std::size_t> word_ends;

  std::size_t n_words() const { return word_ends.size(); }
  double duration_ms() const;
};

/// Builds a clip from separately synthesized words: each trimmed of the silence around it (below
/// `silence_level` of full scale, keeping `margin_ms`), joined with `gap_ms` of silence.
/// Fails when the words are empty, a word has no audible sample, or the rate is not positive.
result<filler_clip> join_words(std::string text, int sample_rate_hz, const std::vector<std::vector<std::int16_t>>& words,
                               double gap_ms = 60.0, double silence_level = 0.01, double margin_ms = 10.0);

/// The phrases a session may play: one per filler_kind, and the apology.
struct filler_phrases {
  std::string waiting = "One moment.";
  std::string tool = "Let me check.";
  std::string apology = "Sorry, something went wrong. Please try again.";
};

struct filler_bank {
  filler_clip waiting;
  filler_clip tool;
  /// Ends a reply that failed (recognizer, LLM or synthesizer); played as is, whatever failed.
  filler_clip apology;
  const filler_clip& clip(filler_kind kind) const { return kind == filler_kind::tool ? tool : waiting; }
};

/// Synthesizes the phrases word by word with `tts` (blocking; at most `timeout` per word) and
/// joins them. Meant for start-up, with the phrase cache's synthesizer.
result<std::shared_ptr<const filler_bank>> build_filler_bank(engine::synthesizer& tts, const filler_phrases& phrases = {},
                                                             double gap_ms = 60.0,
                                                             std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Paces one clip word by word (see the header comment). Word k > 0 is due at
/// t_start + (end of word k−1) − lead_ms; word 0 at once.
class filler_player {
 public:
  struct word {
    std::size_t index = 0;
    std::size_t begin = 0, end = 0;  // samples of the clip
  };

  filler_player(std::shared_ptr<const filler_bank> bank, filler_kind kind, double lead_ms);

  void start(time_point t);
  /// The next word if it is due at `now` (call until nullopt); nothing after cut() or the last.
  std::optional<word> next_word(time_point now);
  std::span<const std::int16_t> samples(const word& w) const;
  /// When the next word is due; nullopt when every word was sent or the player was cut.
  std::optional<time_point> next_due() const;
  /// No more words. Returns whether words were left unsent (a real cut).
  bool cut();

  const filler_clip& clip() const { return bank_->clip(kind_); }
  bool started() const { return t_start_.has_value(); }
  bool done() const { return cut_ || n_sent_ == clip().n_words(); }
  std::size_t n_words_sent() const { return n_sent_; }
  std::size_t n_samples_sent() const { return n_sent_ == 0 ? 0 : clip().word_ends[n_sent_ - 1]; }
  std::optional<time_point> t_start() const { return t_start_; }
  /// When the audio sent so far ends playing, at real time from t_start.
  std::optional<time_point> t_end() const;

 private:
  std::shared_ptr<const filler_bank> bank_;
  filler_kind kind_;
  double lead_ms_;
  std::optional<time_point> t_start_;
  std::size_t n_sent_ = 0;
  bool cut_ = false;
};

}  // namespace parley::agent
