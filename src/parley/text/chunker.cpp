#include "parley/text/chunker.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include "parley/text/detail/ascii.hpp"

namespace parley::text {
namespace {

using detail::is_space;
using marks = std::span<const std::string_view>;

constexpr std::string_view k_sentence_marks[] = {".", "!", "?", "\u2026"};
constexpr std::string_view k_cjk_sentence_marks[] = {"\u3002", "\uFF01", "\uFF1F"};  // 。！？
constexpr std::string_view k_closers[] = {"\"", "'", ")", "]", "\u201D", "\u2019", "\u00BB",
                                          "\u300D", "\u300F", "\uFF09"};  // ” ’ » 」 』 ）
constexpr std::string_view k_clause_marks[] = {",", ";", ":", "\u2014", "\u2013"};  // — –; and " - "

// Words whose dot does not end a sentence (case-sensitive). Dotted abbreviations (e.g., U.S.) and
// initials are recognised by shape instead; see is_abbreviation().
constexpr std::string_view k_abbreviations[] = {
    "Mr.",   "Mrs.",  "Ms.",   "Dr.",   "Prof.", "Sr.",   "Jr.",   "St.",   "Mt.",   "Gen.",
    "Col.",  "Capt.", "Lt.",   "Sgt.",  "Gov.",  "Sen.",  "Rep.",  "Rev.",  "Hon.",  "vs.",
    "etc.",  "approx.", "cf.", "ca.",   "al.",   "Fig.",  "Inc.",  "Ltd.",  "Co.",   "Corp.",
    "Dept.", "Jan.",  "Feb.",  "Mar.",  "Apr.",  "Jun.",  "Jul.",  "Aug.",  "Sep.",  "Sept.",
    "Oct.",  "Nov.",  "Dec.",
};

// Code points that are neither letters nor digits in any script (ASCII is handled apart).
constexpr std::pair<char32_t, char32_t> k_non_word_ranges[] = {
    {0x0080, 0x00BF},    // Latin-1 punctuation and symbols: ¡ « » ¿ ©
    {0x2000, 0x206F},    // general punctuation: – — ‘ ’ “ ” • …, zero-width joiner
    {0x2190, 0x2BFF},    // arrows, maths, technical and geometric symbols, dingbats
    {0x3000, 0x303F},    // CJK punctuation: 。、「」
    {0xFE00, 0xFE0F},    // variation selectors
    {0xFF01, 0xFF0F},    // full-width punctuation: ！（），
    {0xFF1A, 0xFF20},    // ：；？
    {0xFFFD, 0xFFFD},    // replacement character
    {0x1F000, 0x1FAFF},  // emoji and pictographs
};

/// Length of the mark of `set` that `text` has at `pos`, or 0.
std::size_t mark_at(std::string_view text, std::size_t pos, marks set) {
  const std::string_view rest = text.substr(pos);
  for (const std::string_view mark : set) {
    if (rest.starts_with(mark)) return mark.size();
  }
  return 0;
}

bool is_word_code_point(char32_t cp) {
  if (cp < 0x80) return detail::is_ascii_alnum(static_cast<char>(cp));
  return std::ranges::none_of(k_non_word_ranges,
                              [cp](const auto& range) { return cp >= range.first && cp <= range.second; });
}

/// Whether `text` holds a letter or a digit: something a TTS engine can say.
bool has_word(std::string_view text) {
  while (!text.empty()) {
    const utf8_code_point cp = decode_utf8(text);
    if (is_word_code_point(cp.value)) return true;
    text.remove_prefix(cp.n_bytes);
  }
  return false;
}

std::size_t count_words(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = std::min(text.find(' ', start), text.size());
    n += has_word(text.substr(start, end - start)) ? 1 : 0;
    start = end + 1;
  }
  return n;
}

/// "e.g.", "U.S.", "Ph.D.": two or more groups of one or two letters, each ending in a dot.
bool is_dotted_abbreviation(std::string_view word) {
  std::size_t n_groups = 0;
  for (; !word.empty(); ++n_groups) {
    const std::size_t dot = word.find('.');
    if (dot == 0 || dot > 2 || !std::all_of(word.begin(), word.begin() + dot, detail::is_ascii_alpha)) {
      return false;
    }
    word.remove_prefix(dot + 1);
  }
  return n_groups >= 2;
}

/// Whether the dot ending `word` belongs to an abbreviation rather than ending a sentence;
/// `next` is the first byte of the word that follows.
bool is_abbreviation(std::string_view word, char next) {
  if (word == "No.") return detail::is_ascii_digit(next);               // "No. 5" but "No. I won't."
  if (word.size() == 2 && detail::is_ascii_upper(word[0])) return true;  // an initial: "J. R. R."
  return is_dotted_abbreviation(word) || std::ranges::find(k_abbreviations, word) != std::end(k_abbreviations);
}

/// The word that ends with the dot at `dot`: "Dr." in "(Dr. Who".
std::string_view word_ending_at(std::string_view text, std::size_t dot) {
  const std::size_t before = text.find_last_of(" (\"'", dot);
  const std::size_t start = before == std::string_view::npos ? 0 : before + 1;
  return text.substr(start, dot + 1 - start);
}

}  // namespace

struct sentence_chunker::decision {
  enum class kind {
    wait,      // needs more input to decide
    pass,      // no cut here; scanning goes on at `pos`
    soft_cut,  // a sentence or clause ends at `pos` (subject to min_segment_chars)
    hard_cut,  // a block ends at `pos`
  };
  kind what;
  std::size_t pos;
};

sentence_chunker::sentence_chunker(chunker_config config) : config_(config) {
  config_.max_segment_chars = std::max<std::size_t>(config_.max_segment_chars, 4);
}

std::vector<std::string> sentence_chunker::push(std::string_view token) {
  utf8_tail_.append(token);
  const std::size_t n_complete = utf8_complete_prefix(utf8_tail_);
  const std::string valid = sanitize_utf8(std::string_view(utf8_tail_).substr(0, n_complete), "");
  utf8_tail_.erase(0, n_complete);
  return feed(markdown_.push(valid), false);
}

std::vector<std::string> sentence_chunker::flush() {
  std::string plain = markdown_.push(sanitize_utf8(utf8_tail_, ""));  // a cut-off code point is dropped
  plain += markdown_.finish();
  utf8_tail_.clear();
  return feed(plain, true);
}

void sentence_chunker::reset() { *this = sentence_chunker{config_}; }

std::size_t sentence_chunker::n_segments() const { return n_segments_; }

std::vector<std::string> sentence_chunker::feed(std::string_view plain, bool at_end) {
  text_.append(plain);
  drop_leading_space();
  std::vector<std::string> out;
  scan(at_end, out);
  return out;
}

void sentence_chunker::scan(bool at_end, std::vector<std::string>& out) {
  const std::size_t max = config_.max_segment_chars;
  while (true) {
    if (scan_ > max) {
      cut(cap_cut(), out);
      continue;
    }
    if (scan_ == text_.size()) break;
    const decision d = decide(scan_);
    if (d.what == decision::kind::wait) break;
    if (d.what == decision::kind::pass || (d.what == decision::kind::soft_cut && !worth_a_segment(d.pos))) {
      scan_ = d.pos;
      continue;
    }
    cut(d.pos > max ? cap_cut() : d.pos, out);
  }
  if (!at_end) return;
  while (text_.size() > max) cut(cap_cut(), out);
  cut(text_.size(), out);
}

sentence_chunker::decision sentence_chunker::decide(std::size_t i) const {
  if (text_[i] == '\n') return {decision::kind::hard_cut, i};
  if (mark_at(text_, i, k_sentence_marks) != 0 || mark_at(text_, i, k_cjk_sentence_marks) != 0) {
    return sentence_end(i);
  }
  if (config_.eager_first && n_segments_ == 0) {
    if (const std::size_t n = clause_mark_at(i); n != 0) return clause_end(i + n);
  }
  return {decision::kind::pass, i + 1};
}

sentence_chunker::decision sentence_chunker::sentence_end(std::size_t i) const {
  std::size_t end = i;
  bool cjk = false;
  bool exclaims = false;  // ! or ? in the run
  while (true) {
    if (const std::size_t n = mark_at(text_, end, k_cjk_sentence_marks); n != 0) {
      cjk = true;
      end += n;
    } else if (const std::size_t m = mark_at(text_, end, k_sentence_marks); m != 0) {
      exclaims = exclaims || text_[end] == '!' || text_[end] == '?';
      end += m;
    } else {
      break;
    }
  }
  const std::size_t marks_end = end;
  while (const std::size_t n = mark_at(text_, end, k_closers)) end += n;
  if (end == text_.size()) return {decision::kind::wait, end};
  if (cjk || (exclaims && end == marks_end && is_space(text_[end]))) return {decision::kind::soft_cut, end};
  if (!is_space(text_[end])) return {decision::kind::pass, end};
  // A dot, an ellipsis or a closed quote ("hi!" she said): the next word tells.
  const std::size_t next = text_.find_first_not_of(' ', end);
  if (next == std::string::npos) return {decision::kind::wait, end};
  if (text_[next] == '\n') return {decision::kind::soft_cut, end};
  if (detail::is_ascii_lower(text_[next])) return {decision::kind::pass, end};
  if (text_[i] == '.' && is_abbreviation(word_ending_at(text_, i), text_[next])) {
    return {decision::kind::pass, end};
  }
  return {decision::kind::soft_cut, end};
}

sentence_chunker::decision sentence_chunker::clause_end(std::size_t end) const {
  if (end == text_.size()) return {decision::kind::wait, end};
  if (!is_space(text_[end])) return {decision::kind::pass, end};  // 5:30, 1,000
  const bool enough = count_words(std::string_view(text_).substr(0, end)) >= config_.eager_min_words;
  return {enough ? decision::kind::soft_cut : decision::kind::pass, end};
}

std::size_t sentence_chunker::clause_mark_at(std::size_t i) const {
  if (text_[i] == '-') return i > 0 && text_[i - 1] == ' ' ? 1 : 0;  // a spaced hyphen: " - "
  return mark_at(text_, i, k_clause_marks);
}

bool sentence_chunker::worth_a_segment(std::size_t end) const {
  const std::string_view segment = std::string_view(text_).substr(0, end);
  return segment.size() >= config_.min_segment_chars && has_word(segment);
}

std::size_t sentence_chunker::cap_cut() const {
  const std::size_t max = config_.max_segment_chars;
  const std::string_view window = std::string_view(text_).substr(0, max + 1);  // text_ is longer
  // Prefer a clause end in the second half, then the last space, then the last code-point boundary.
  for (std::size_t space = max; space > max / 2; --space) {
    if (window[space] == ' ' && std::ranges::any_of(k_clause_marks, [&](std::string_view mark) {
          return window.substr(0, space).ends_with(mark);
        })) {
      return space;
    }
  }
  if (const std::size_t space = window.rfind(' '); space != std::string_view::npos && space > 0) return space;
  return utf8_complete_prefix(window.substr(0, max));
}

void sentence_chunker::cut(std::size_t end, std::vector<std::string>& out) {
  std::string_view segment = std::string_view(text_).substr(0, end);
  segment = segment.substr(0, segment.find_last_not_of(' ') + 1);
  if (has_word(segment)) {
    out.emplace_back(segment);
    ++n_segments_;
  }
  text_.erase(0, end);
  drop_leading_space();
  scan_ = 0;
}

void sentence_chunker::drop_leading_space() { text_.erase(0, text_.find_first_not_of(" \n")); }

}  // namespace parley::text
