// engine/chat_model — the responder (LLM or any text generator) interface.
//
// Role: given the conversation so far, streams the reply as text tokens.
// Threading: a chat_model is shared by all sessions; stream() may be called from any thread and
// must return at once (the work happens elsewhere). Callbacks may run on any thread; they must
// not block, and for one request they are never invoked concurrently.
// Cancellation: when `stop` is requested, the model stops within one token and then calls
// on_done with errc::cancelled (or with success if it had already finished). on_done is always
// called exactly once and nothing is called after it.
// Progress: layers between the caller and the provider (a fallback chain, a tool loop) may report
// how the request is being served through the optional on_progress (tool calls starting and
// ending, hedges, fallbacks, which provider was kept). It is information for the caller's turn
// timeline and fillers, never text for the user; a model that reports nothing is fine. A wrapper
// that forwards events must forward on_progress too.
// Units: tokens are UTF-8 text pieces of any length; a piece may end inside a multi-byte
// character (consumers must cope — the sentence chunker does).
//
//   model.stream(request, {.on_token = [](std::string_view t) { ... },
//                          .on_done = [](status s) { ... }}, stop_source.get_token());
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "parley/core/error.hpp"
#include "parley/engine/responder.hpp"

namespace parley::engine {

enum class chat_role { system, user, assistant, tool };
std::string_view to_string(chat_role role);

struct chat_message {
  chat_role role = chat_role::user;
  std::string content;
  bool interrupted = false;  // an assistant reply the user cut short: content is what was heard
};

struct chat_request {
  std::vector<chat_message> messages;
  std::optional<int> max_tokens;
  std::optional<double> temperature;
  /// The asking session, and a way to speak to it later unprompted (see responder_context).
  responder_context context;

  /// The content of the last user message, or "" when there is none.
  std::string_view last_user_text() const;
};

struct chat_caps {
  bool streaming = true;   // tokens arrive as generated (false: the whole reply comes as one piece)
  std::string model;       // model name as the provider knows it
  bool calls_tools = false;  // a reply may run tools (never preemptively: agent/reply_router.hpp)
};

/// How a request is being served (see the header comment). Same threading as the other events.
struct chat_progress {
  enum class kind {
    tool_started,   // the model called tool `name`; it runs now (the reply waits for it)
    tool_finished,  // tool `name` returned
    fallback,       // a provider failed before its first token; the request moved to provider `name`
    hedge,          // no first token yet: the same request also went to provider `name`
    hedge_denied,   // a hedge was due but the chain's hedge budget was spent: none was sent
    served,         // sent once, just before on_done: `name` is the provider whose reply was kept
                    // ("" when none was); `hedge_won` when that reply came from a hedge request
  };
  kind what = kind::served;
  std::string name;
  bool hedge_won = false;
  /// tool_started / tool_finished: the call's id as the model gave it, its arguments (JSON text),
  /// and (tool_finished) the result the model was handed: the tool's reply, or "error: ...".
  std::string call_id;
  std::string arguments;
  std::string output;
};
std::string_view to_string(chat_progress::kind what);

struct chat_events {
  std::function<void(std::string_view token)> on_token;
  std::function<void(status done)> on_done;
  std::function<void(const chat_progress& progress)> on_progress;  // optional
};

class chat_model {
 public:
  virtual ~chat_model() = default;
  virtual std::string name() const = 0;
  virtual chat_caps caps() const = 0;
  virtual void stream(chat_request request, chat_events events, std::stop_token stop) = 0;
  /// The session ended: drop what the model keeps for it (e.g. its KV cache). Thread-safe.
  virtual void forget_session(session_id) {}
};

}  // namespace parley::engine
