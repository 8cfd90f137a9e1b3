// engines/openai/sse_parser — server-sent events and the chat-completions stream format.
//
// Role: the pure, synchronous half of the OpenAI-compatible client ("functional core"). Bytes
// from the HTTP body go into `sse_parser` in chunks of any size, split anywhere (inside a line,
// between CR and LF, inside a UTF-8 sequence); it yields complete events. Each event's data is
// one chat-completions chunk (JSON), decoded by `decode_chat_chunk` into a `chat_delta`.
// `utf8_carry` holds back a cut-off UTF-8 sequence so no token handed on ends mid-character, and
// `tool_call_accumulator` assembles tool-call fragments spread over many deltas.
// Threading: plain single-owner objects; no locking. Ownership: values only.
// Units: sizes in bytes.
//
//   sse_parser p;
//   std::vector<sse_event> events;
//   if (auto s = p.feed(bytes, events); !s) fail(s.error());
//   for (auto& e : events) if (e.is_done()) finish(); else use(decode_chat_chunk(e.data));
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/error.hpp"

namespace parley::openai {

struct sse_event {
  std::string type;  // the `event:` field; "" means the default ("message")
  std::string data;  // the `data:` lines joined with '\n' (no trailing newline)
  /// The OpenAI end-of-stream marker: data is exactly "[DONE]".
  bool is_done() const { return data == "[DONE]"; }
};

struct sse_limits {
  std::size_t max_line_bytes = 1u << 20;   // one line (without its terminator)
  std::size_t max_event_bytes = 4u << 20;  // one event's joined data
};

/// Incremental parser for the text/event-stream format (WHATWG HTML §9.2): lines end in CRLF, LF
/// or CR; an empty line dispatches the event; `:` lines are comments; `id`, `retry` and unknown
/// fields are ignored; an event with no data lines is not dispatched; a leading BOM is skipped.
class sse_parser {
 public:
  explicit sse_parser(sse_limits limits = {}) : limits_(limits) {}

  /// Parses `bytes` and appends each completed event to `out`. On a line or event over the
  /// limits it returns an invalid_argument error, and every later call returns it again.
  status feed(std::string_view bytes, std::vector<sse_event>& out);

  /// The body ended: dispatches an event whose final blank line never came (lenient: many
  /// servers end the stream right after the last data line). Unterminated last line included.
  status finish(std::vector<sse_event>& out);

  std::size_t n_bytes_fed() const { return n_bytes_fed_; }

 private:
  status fail(std::string message);
  status take_line(std::string_view line, std::vector<sse_event>& out);

  sse_limits limits_;
  std::string line_;            // the current, unterminated line
  std::string data_;            // data lines of the pending event, each followed by '\n'
  std::string type_;            // event field of the pending event
  bool has_data_ = false;
  bool after_cr_ = false;       // the previous byte was CR: a following LF belongs to it
  bool started_ = false;        // the first bytes have been seen (BOM check done)
  std::optional<error> failed_;
  std::size_t n_bytes_fed_ = 0;
};

/// Holds back the tail of a UTF-8 byte stream that ends inside a multi-byte sequence.
class utf8_carry {
 public:
  /// Returns the longest complete prefix of (carried bytes + `piece`) and keeps the rest.
  std::string push(std::string_view piece);
  /// The bytes still held (an incomplete sequence); empty when the stream ended cleanly.
  const std::string& pending() const { return pending_; }
  void clear() { pending_.clear(); }

 private:
  std::string pending_;
};

/// One fragment of a tool call, as streamed. Only `index` is always meaningful; `id` and `name`
/// usually arrive in the first fragment and `arguments` is a piece of a JSON text.
struct tool_call_delta {
  int index = 0;
  std::string id;
  std::string name;
  std::string arguments;
};

/// What one chat-completions chunk carries (choice 0 only; parley never asks for n > 1).
struct chat_delta {
  std::string content;                     // text to append (may be empty)
  std::vector<tool_call_delta> tool_calls; // tool-call fragments (may be empty)
  std::string finish_reason;               // "stop", "length", "tool_calls"... or "" when absent
  std::optional<std::string> error;        // the provider reported an error inside the stream
};

/// Decodes one chunk's JSON. A text that is not a JSON object gives an engine_failure error;
/// fields parley does not use (role, logprobs, usage, reasoning) are ignored.
result<chat_delta> decode_chat_chunk(std::string_view json);

/// A complete tool call requested by the model.
struct tool_call {
  std::string id;
  std::string name;
  std::string arguments_json;
};

/// Assembles tool_call_delta fragments by index, in index order.
class tool_call_accumulator {
 public:
  void add(const tool_call_delta& delta);
  bool empty() const { return calls_.empty(); }
  /// The calls assembled so far, ordered by index. A call that never got an id gets
  /// "call_<index>" so the follow-up request can still refer to it.
  std::vector<tool_call> calls() const;
  void clear() { calls_.clear(); }

 private:
  struct slot {
    int index = 0;
    tool_call call;
  };
  std::vector<slot> calls_;
};

}  // namespace parley::openai
