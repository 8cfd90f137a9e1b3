// text/chunker — cuts a streamed LLM reply into speakable segments for TTS.
//
// Role: tokens go in as they arrive (split anywhere, even inside a UTF-8 sequence); segments come
// out as soon as a cut is safe:
//  - at a sentence end: . ! ? … followed by a space (with any closing quotes or brackets), or
//    。！？ (no space needed);
//  - at a block end: paragraph, list item, heading, table row, code block;
//  - at max_segment_chars;
//  - for the first segment of a reply only (eager_first): at a clause end , ; : — – or " - "
//    followed by a space, so the first audio starts sooner.
// Not sentence ends: a mark not followed by a space (3.14, 1.2.3, 5:30, URLs, e-mail addresses),
// a dot, or a mark inside quotes or brackets, followed by a lower-case word ("approx. half",
// "\"hi!\" she said"), known abbreviations (Dr., vs., etc.), dotted ones (e.g., U.S., Ph.D.) and
// initials (J. R. R. Tolkien). A bare ! or ? followed by a space is cut at once.
// Choices:
//  - An abbreviation never ends a sentence: "at 5 p.m. Then we" stays one segment. A missed cut
//    only delays audio a little; a wrong one breaks the prosody. "No." ends one unless a number
//    follows ("No. 5").
//  - An ellipsis (... or …) ends a sentence unless a lower-case word follows: "Well... maybe"
//    runs on, "Wait... The" is cut.
//  - Markdown is removed first (see markdown.hpp): list markers, "1." included, are not spoken
//    and code blocks are not read aloud.
//  - min_segment_chars: a sentence or clause cut that would leave a shorter segment is skipped
//    (the fragment runs on into the next one); block ends, max-length cuts and flush() emit any
//    speakable rest however short.
//  - Every segment is trimmed valid UTF-8 holding at least one letter or digit: fragments of only
//    punctuation, symbols or emoji are dropped, and so are invalid input bytes.
// A decision waits only for the input it needs (after ". " it waits for the next non-space
// character), so the segments never depend on how the text was split into tokens.
// Threading: one chunker per reply stream, used from one thread (the session strand).
// Lifetime/cancellation: on interrupt or a new reply call reset(); nothing held back is emitted.
// Units: lengths in bytes of UTF-8.
//
//   sentence_chunker chunker;
//   for (std::string_view token : llm_tokens)
//     for (std::string& segment : chunker.push(token)) tts.speak(segment);
//   for (std::string& segment : chunker.flush()) tts.speak(segment);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parley/text/markdown.hpp"
#include "parley/text/utf8.hpp"

namespace parley::text {

struct chunker_config {
  bool eager_first = true;               // the first segment may be cut at , ; : or a dash ...
  std::size_t eager_min_words = 4;       // ... once it holds at least this many words
  std::size_t max_segment_chars = 200;   // hard cap in bytes (at least 4: one code point); cut at
                                         // the last clause end or space before it, else anywhere
                                         // between code points
  std::size_t min_segment_chars = 2;     // shortest segment a sentence or clause cut may leave
};

class sentence_chunker {
 public:
  explicit sentence_chunker(chunker_config config = {});

  /// Feeds one token; returns the segments it completed, in order (usually none or one).
  std::vector<std::string> push(std::string_view token);
  /// End of the token stream: returns what is left as final segment(s). Afterwards the chunker
  /// holds no text; n_segments() keeps counting until reset().
  std::vector<std::string> flush();
  /// Forgets everything (new reply, or an interrupt).
  void reset();
  /// Segments emitted since construction or the last reset().
  std::size_t n_segments() const;

 private:
  struct decision;

  std::vector<std::string> feed(std::string_view plain, bool at_end);
  void scan(bool at_end, std::vector<std::string>& out);
  decision decide(std::size_t i) const;
  decision sentence_end(std::size_t i) const;
  decision clause_end(std::size_t end) const;
  std::size_t clause_mark_at(std::size_t i) const;
  bool worth_a_segment(std::size_t end) const;
  std::size_t cap_cut() const;
  void cut(std::size_t end, std::vector<std::string>& out);
  void drop_leading_space();

  chunker_config config_;
  std::string utf8_tail_;       // the start of a code point that the last token cut off
  markdown_stripper markdown_;
  std::string text_;            // plain text of the segment being built; starts with a non-space
  std::size_t scan_ = 0;        // bytes of text_ known not to end the segment
  std::size_t n_segments_ = 0;
};

}  // namespace parley::text
