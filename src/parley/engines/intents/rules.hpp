// engines/intents/rules — the intent handlers' pattern matching (internal to engines/intents).
//
// Role: pure, synchronous pieces of the local responder: the utterance and its explained-words
// score (local_responder.hpp, "Confidence"), duration parsing for timers, arithmetic and unit
// conversion answers, and wording helpers. No state, no locks: local_responder.cpp adds the
// per-session state and the timers.
// Threading: pure functions over their arguments.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::intents::detail {

class utterance {
 public:
  explicit utterance(std::string_view text);
  explicit utterance(std::vector<std::string> words) : w_(std::move(words)) {}
  const std::vector<std::string>& words() const { return w_; }
  std::size_t size() const { return w_.size(); }
  bool empty() const { return w_.empty(); }
  std::string_view at(std::size_t i) const { return i < w_.size() ? std::string_view(w_[i]) : std::string_view(); }
  bool has(std::string_view w) const;
  bool has_any(std::initializer_list<std::string_view> ws) const;
  std::optional<std::size_t> find(std::string_view w, std::size_t from = 0) const;
  /// Start of the first occurrence of the phrase, or nullopt.
  std::optional<std::size_t> find_phrase(std::initializer_list<std::string_view> phrase, std::size_t from = 0) const;
  bool has_phrase(std::initializer_list<std::string_view> phrase) const { return find_phrase(phrase).has_value(); }

 private:
  std::vector<std::string> w_;
};

/// Which words of an utterance one interpretation explains, and the confidence that follows.
class evidence {
 public:
  explicit evidence(const utterance& u) : u_(&u), used_(u.size(), 0) {}
  void mark(std::size_t i) {
    if (i < used_.size()) used_[i] = 1;
  }
  void mark(std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end && i < used_.size(); ++i) used_[i] = 1;
  }
  void mark(const std::vector<char>& used) {
    for (std::size_t i = 0; i < used.size() && i < used_.size(); ++i) used_[i] |= used[i];
  }
  /// Marks every occurrence of these words.
  void mark_words(std::initializer_list<std::string_view> vocabulary);
  bool used(std::size_t i) const { return i < used_.size() && used_[i]; }
  /// base × c_content × (0.75 + 0.25 × c_function); fillers count as explained.
  double confidence(double base) const;
  /// Number of content words left unexplained.
  std::size_t n_unexplained_content() const;

 private:
  const utterance* u_;
  std::vector<char> used_;
};

/// Politeness and address words every interpretation explains ("hey", "please", "can you").
bool is_filler(std::string_view w);

// --- durations ----------------------------------------------------------------------------------
struct duration_parse {
  double seconds = 0.0;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::vector<char> used;  // per word of the utterance
};
/// The first duration in the utterance: "five minutes", "an hour and a half", "1 hour 30
/// minutes", "half an hour", "ten second" (as in "a ten second timer").
std::optional<duration_parse> parse_duration(const utterance& u, std::size_t from = 0);
/// "5 minutes", "1 hour and 30 minutes", "1 minute and 30 seconds".
std::string describe_duration(std::chrono::seconds d);
/// The same as an adjective: "5 minute", "1 hour 30 minute".
std::string describe_duration_adjective(std::chrono::seconds d);
/// "4 minutes and 30 seconds", "1 hour and 5 minutes", "less than a second" (rounded up to seconds).
std::string describe_time_left(std::chrono::milliseconds left);

// --- arithmetic ---------------------------------------------------------------------------------
struct math_result {
  bool complete = false;    // an expression with its numbers was read
  std::string expression;   // as it will be spoken: "12 times 8"
  double value = 0.0;
  std::string problem;      // "" or the reason there is no value ("You can't divide by zero.")
  std::vector<char> used;   // per word of the utterance
};
/// The first arithmetic expression in the utterance ("what is twelve times eight", "add two and
/// three", "twenty percent of eighty", "square root of sixteen"), or nullopt when there is no
/// operator next to a number. complete == false when an operand is missing.
std::optional<math_result> parse_arithmetic(const utterance& u);

// --- unit conversion ----------------------------------------------------------------------------
struct conversion_result {
  std::string reply;
  bool convertible = true;  // false: the units measure different things
  std::vector<char> used;
};
/// "how many minutes are in a day", "convert five kilometers to miles", "what is 100 fahrenheit in
/// celsius": nullopt unless a source quantity and a target unit are both found.
std::optional<conversion_result> parse_conversion(const utterance& u);

/// Upper-cases the first letter.
std::string capitalise(std::string s);

}  // namespace parley::intents::detail
