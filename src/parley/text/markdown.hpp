// text/markdown — removes the markdown an LLM may emit, so that TTS reads plain text.
//
// Role: `markdown_stripper` is a streaming transducer: push() raw text in pieces of any size and
// get back the plain text that is final so far. It holds back only what it needs to decide (the
// start of a line, a run of `*`, the character after `]`), so the concatenated output never
// depends on how the input was split. `strip_markdown` does a whole text at once.
//
// Removed: emphasis (**b**, __b__, *i*, _i_, ~~s~~; a `*` or `_` between two letters or digits,
// or between two spaces, is kept: snake_case, 2*3, 2 * 3), inline-code backticks (the code text
// is kept), headings (# .. ######), bullets (- * + •), numbered-list markers ("1." "2)": dropped,
// not spoken), blockquote markers, links ([text](url) -> text), images (dropped with their alt
// text), tables (cells joined with ", ", separator rows dropped) and horizontal rules.
// Fenced code blocks (```) are dropped entirely, fences and content: code is not read aloud.
// Output: '\n' separates blocks (paragraph, list item, heading, table row, code block); a soft
// line break and any run of spaces or tabs become one space.
// Threading: a stripper is plain single-threaded state; strip_markdown is a pure function.
// Units: bytes. The input should be valid UTF-8 (bytes >= 0x80 pass through untouched).
//
//   markdown_stripper md;
//   for (std::string_view piece : pieces) speak_later(md.push(piece));
//   speak_later(md.finish());
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace parley::text {

class markdown_stripper {
 public:
  /// Feeds raw text; returns the plain text it completed.
  std::string push(std::string_view text);
  /// Ends the text: returns the rest and leaves the stripper ready for a new text.
  std::string finish();
  void reset();

 private:
  enum class line_kind { text, heading, table, hidden };
  enum class inline_skip { none, image_alt, link_target };

  bool step();  // false: needs more input to decide
  bool start_line();
  bool skip_step();
  bool inline_step();
  bool emphasis();
  bool link_close();
  bool image_open();
  bool table_pipe();
  bool blank();
  void end_line();
  void begin_line(line_kind kind, std::size_t n_marker_bytes);
  std::string_view rest() const;
  void consume(std::size_t n_bytes);
  void emit(std::string_view text);
  void emit_space();
  void emit_break();

  std::string in_;           // raw input not consumed yet (from pos_)
  std::size_t pos_ = 0;
  bool finished_ = false;    // no more input: lookahead past the end reads as a line end
  std::string out_;          // plain text produced by the current push()
  char prev_ = '\n';         // last consumed input byte
  char last_out_ = '\n';     // last emitted byte
  bool at_line_start_ = true;
  bool in_code_block_ = false;
  line_kind line_ = line_kind::text;
  inline_skip skip_ = inline_skip::none;
};

/// Removes markdown from a whole text; lines are trimmed and empty ones dropped.
std::string strip_markdown(std::string_view text);

}  // namespace parley::text
