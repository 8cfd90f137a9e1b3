#include "parley/engine/chat_model.hpp"

namespace parley::engine {

std::string_view to_string(chat_role role) {
  switch (role) {
    case chat_role::system: return "system";
    case chat_role::user: return "user";
    case chat_role::assistant: return "assistant";
    case chat_role::tool: return "tool";
  }
  return "user";
}

std::string_view to_string(chat_progress::kind what) {
  switch (what) {
    case chat_progress::kind::tool_started: return "tool_started";
    case chat_progress::kind::tool_finished: return "tool_finished";
    case chat_progress::kind::fallback: return "fallback";
    case chat_progress::kind::hedge: return "hedge";
    case chat_progress::kind::hedge_denied: return "hedge_denied";
    case chat_progress::kind::served: return "served";
  }
  return "served";
}

std::string_view chat_request::last_user_text() const {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->role == chat_role::user) return it->content;
  }
  return {};
}

}  // namespace parley::engine
