#include "parley/text/markdown.hpp"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "parley/text/detail/ascii.hpp"

namespace parley::text {
namespace {

using detail::is_ascii_digit;
using detail::is_blank;
using detail::is_space;

/// The input after the cursor. Past its end it reads as '\n' once the input is finished (the
/// end of the text ends its last line) and as nullopt, "wait for more", until then.
class lookahead {
 public:
  lookahead(std::string_view rest, bool finished) : rest_(rest), finished_(finished) {}

  std::optional<char> operator[](std::size_t i) const {
    if (i < rest_.size()) return rest_[i];
    if (finished_) return '\n';
    return std::nullopt;
  }

  /// Offset of the first byte at or after `i` that is not a blank.
  std::optional<std::size_t> skip_blanks(std::size_t i) const {
    for (;; ++i) {
      const std::optional<char> c = (*this)[i];
      if (!c) return std::nullopt;
      if (!is_blank(*c)) return i;
    }
  }

 private:
  std::string_view rest_;
  bool finished_;
};

/// Length of a line marker at the cursor: 0 when there is none, nullopt while undecided.
using marker = std::optional<std::size_t>;

marker match(const lookahead& in, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::optional<char> c = in[i];
    if (!c) return std::nullopt;
    if (*c != text[i]) return 0;
  }
  return text.size();
}

marker match_any(const lookahead& in, std::initializer_list<std::string_view> texts) {
  for (const std::string_view text : texts) {
    const marker m = match(in, text);
    if (m != 0u) return m;
  }
  return 0;
}

/// Counts the bytes equal to `c` from the cursor on; nullopt while they may go on.
std::optional<std::size_t> run_of(const lookahead& in, char c) {
  for (std::size_t n = 0;; ++n) {
    const std::optional<char> next = in[n];
    if (!next) return std::nullopt;
    if (*next != c) return n;
  }
}

/// Whether the line from the cursor holds only bytes of `allowed`, with at least `n_min` of
/// `counted`. Reads up to the line end.
std::optional<bool> line_only(const lookahead& in, std::string_view allowed, char counted, std::size_t n_min) {
  std::size_t n = 0;
  for (std::size_t i = 0;; ++i) {
    const std::optional<char> c = in[i];
    if (!c) return std::nullopt;
    if (*c == '\n') return n >= n_min;
    if (allowed.find(*c) == std::string_view::npos) return false;
    n += *c == counted ? 1 : 0;
  }
}

marker fence_marker(const lookahead& in) { return match(in, "```"); }

marker quote_marker(const lookahead& in) {
  if (*in[0] != '>') return 0;
  const std::optional<char> next = in[1];
  if (!next) return std::nullopt;
  return *next == ' ' ? 2 : 1;
}

/// "---", "***", "___", "- - -": a horizontal rule (the whole line).
marker rule_marker(const lookahead& in) {
  const char c = *in[0];
  if (c != '-' && c != '*' && c != '_') return 0;
  const std::optional<bool> is_rule = line_only(in, std::string{c, ' ', '\t', '\r'}, c, 3);
  if (!is_rule) return std::nullopt;
  return *is_rule ? 1 : 0;
}

marker heading_marker(const lookahead& in) {
  const std::optional<std::size_t> n = run_of(in, '#');
  if (!n) return std::nullopt;
  if (*n == 0 || *n > 6 || *in[*n] != ' ') return 0;
  return *n + 1;
}

/// "|---|:--:|": the row under a table header.
marker table_separator_marker(const lookahead& in) {
  if (*in[0] != '|') return 0;
  const std::optional<bool> is_separator = line_only(in, "|-: \t\r", '-', 1);
  if (!is_separator) return std::nullopt;
  return *is_separator ? 1 : 0;
}

marker table_marker(const lookahead& in) { return *in[0] == '|' ? 1 : 0; }

marker bullet_marker(const lookahead& in) { return match_any(in, {"- ", "* ", "+ ", "\u2022 "}); }

/// "1. ", "12) ": up to three digits.
marker number_marker(const lookahead& in) {
  std::size_t n = 0;
  for (; n <= 3; ++n) {
    const std::optional<char> c = in[n];
    if (!c) return std::nullopt;
    if (!is_ascii_digit(*c)) break;
  }
  if (n == 0 || n > 3 || (*in[n] != '.' && *in[n] != ')')) return 0;
  const std::optional<char> after = in[n + 1];
  if (!after) return std::nullopt;
  return *after == ' ' ? n + 2 : 0;
}

bool is_word_byte(char c) { return detail::is_ascii_alnum(c) || static_cast<unsigned char>(c) >= 0x80; }

/// Bytes that may start markup within a line; everything else is copied as is.
constexpr std::string_view k_inline_specials = "*_~`[]!| \t\r\n";

}  // namespace

std::string markdown_stripper::push(std::string_view text) {
  in_.append(text);
  while (pos_ < in_.size() && step()) {
  }
  in_.erase(0, pos_);
  pos_ = 0;
  return std::exchange(out_, {});
}

std::string markdown_stripper::finish() {
  finished_ = true;
  std::string out = push({});
  reset();
  return out;
}

void markdown_stripper::reset() { *this = markdown_stripper{}; }

bool markdown_stripper::step() {
  if (at_line_start_) return start_line();
  const char c = in_[pos_];
  if (line_ == line_kind::hidden) {
    const std::size_t eol = in_.find('\n', pos_);
    if (eol == pos_) end_line();
    else consume((eol == std::string::npos ? in_.size() : eol) - pos_);
    return true;
  }
  if (skip_ != inline_skip::none) return skip_step();
  if (c == '\n') {
    end_line();
    return true;
  }
  return inline_step();
}

bool markdown_stripper::start_line() {
  const char c = in_[pos_];
  if (is_blank(c)) {
    consume(1);
    return true;
  }
  if (c == '\n') {  // a blank line ends a paragraph
    if (!in_code_block_) emit_break();
    consume(1);
    return true;
  }
  const lookahead in{rest(), finished_};
  const marker fence = fence_marker(in);
  if (!fence) return false;
  if (*fence != 0 || in_code_block_) {
    if (*fence != 0) {
      in_code_block_ = !in_code_block_;
      emit_break();
    }
    begin_line(line_kind::hidden, 0);
    return true;
  }
  const marker quote = quote_marker(in);
  if (!quote) return false;
  if (*quote != 0) {  // still at the line start: "> - item"
    consume(*quote);
    return true;
  }
  // Each of these starts a new block.
  static constexpr std::pair<marker (*)(const lookahead&), line_kind> k_block_markers[] = {
      {rule_marker, line_kind::hidden},
      {heading_marker, line_kind::heading},
      {table_separator_marker, line_kind::hidden},
      {table_marker, line_kind::table},
      {bullet_marker, line_kind::text},
      {number_marker, line_kind::text},
  };
  for (const auto& [block_marker, kind] : k_block_markers) {
    const marker n = block_marker(in);
    if (!n) return false;
    if (*n != 0) {
      emit_break();
      begin_line(kind, *n);
      return true;
    }
  }
  begin_line(line_kind::text, 0);
  return true;
}

bool markdown_stripper::skip_step() {
  const char c = in_[pos_];
  if (c == '\n') {  // an unclosed link or image ends with its line
    skip_ = inline_skip::none;
    return true;
  }
  if (skip_ == inline_skip::link_target || c != ']') {
    if (c == ')') skip_ = inline_skip::none;
    consume(1);
    return true;
  }
  return link_close();  // the end of an image's alt text
}

bool markdown_stripper::inline_step() {
  switch (in_[pos_]) {
    case '*':
    case '_':
    case '~':
      return emphasis();
    case '`':  // inline code: the code is read, the backticks are not
    case '[':
      consume(1);
      return true;
    case ']':
      return link_close();
    case '!':
      return image_open();
    case '|':
      if (line_ == line_kind::table) return table_pipe();
      break;
    case ' ':
    case '\t':
    case '\r':
      return blank();
    default:
      break;
  }
  const std::size_t end = std::min(in_.find_first_of(k_inline_specials, pos_ + 1), in_.size());
  emit(std::string_view(in_).substr(pos_, end - pos_));
  consume(end - pos_);
  return true;
}

bool markdown_stripper::emphasis() {
  const char mark = in_[pos_];
  const lookahead in{rest(), finished_};
  const std::optional<std::size_t> n = run_of(in, mark);
  if (!n) return false;
  const char next = *in[*n];
  const bool intraword = is_word_byte(prev_) && is_word_byte(next);  // snake_case, 2*3
  const bool spaced = is_space(prev_) && is_space(next);              // 2 * 3
  const bool lone_tilde = mark == '~' && *n == 1;                     // ~5 minutes
  if (intraword || spaced || lone_tilde) emit(std::string_view(in_).substr(pos_, *n));
  consume(*n);
  return true;
}

bool markdown_stripper::link_close() {
  const std::optional<char> next = lookahead{rest(), finished_}[1];
  if (!next) return false;
  const bool has_target = *next == '(';
  skip_ = has_target ? inline_skip::link_target : inline_skip::none;
  consume(has_target ? 2 : 1);
  return true;
}

bool markdown_stripper::image_open() {
  const std::optional<char> next = lookahead{rest(), finished_}[1];
  if (!next) return false;
  if (*next == '[') {
    skip_ = inline_skip::image_alt;
    consume(2);
  } else {
    emit("!");
    consume(1);
  }
  return true;
}

bool markdown_stripper::table_pipe() {
  const lookahead in{rest(), finished_};
  const std::optional<std::size_t> next = in.skip_blanks(1);
  if (!next) return false;
  if (*in[*next] != '\n') {  // a trailing pipe is dropped
    emit(",");
    emit_space();
  }
  consume(1);
  return true;
}

bool markdown_stripper::blank() {
  if (line_ == line_kind::table) {  // drop the padding around cells: "a | b |" -> "a, b"
    const lookahead in{rest(), finished_};
    const std::optional<std::size_t> next = in.skip_blanks(0);
    if (!next) return false;
    if (*in[*next] == '|' || *in[*next] == '\n') {
      consume(*next);
      return true;
    }
  }
  emit_space();
  consume(1);
  return true;
}

void markdown_stripper::end_line() {
  if (line_ == line_kind::text) emit_space();  // a soft line break
  else if (line_ != line_kind::hidden) emit_break();
  consume(1);
  line_ = line_kind::text;
  at_line_start_ = true;
}

void markdown_stripper::begin_line(line_kind kind, std::size_t n_marker_bytes) {
  if (n_marker_bytes != 0) consume(n_marker_bytes);
  line_ = kind;
  at_line_start_ = false;
}

std::string_view markdown_stripper::rest() const { return std::string_view(in_).substr(pos_); }

void markdown_stripper::consume(std::size_t n_bytes) {
  prev_ = in_[pos_ + n_bytes - 1];
  pos_ += n_bytes;
}

void markdown_stripper::emit(std::string_view text) {
  out_ += text;
  last_out_ = text.back();
}

void markdown_stripper::emit_space() {
  if (last_out_ != ' ' && last_out_ != '\n') emit(" ");
}

void markdown_stripper::emit_break() {
  if (last_out_ != '\n') emit("\n");
}

std::string strip_markdown(std::string_view text) {
  markdown_stripper stripper;
  std::string plain = stripper.push(text);
  plain += stripper.finish();
  std::string out;
  for (std::size_t start = 0; start < plain.size();) {
    const std::size_t eol = std::min(plain.find('\n', start), plain.size());
    const std::string_view line = std::string_view(plain).substr(start, eol - start);
    const std::size_t first = line.find_first_not_of(' ');
    if (first != std::string_view::npos) {
      if (!out.empty()) out += '\n';
      out += line.substr(first, line.find_last_not_of(' ') + 1 - first);
    }
    start = eol + 1;
  }
  return out;
}

}  // namespace parley::text
