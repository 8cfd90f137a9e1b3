// core/log — a tiny logging facade.
//
// core depends on std only, so this is just a level check plus a replaceable sink; the CLI plugs
// in its own sink (stderr with timestamps). No PII in messages: transcripts go to debug level
// only, redacted (DESIGN §7).
// Threading: the sink is called from whichever thread logs; set_log_sink() must happen at start-up.
//
//   PARLEY_LOG(info, "session " << id.str() << " started");
#pragma once

#include <functional>
#include <sstream>
#include <string_view>

namespace parley {

enum class log_level { trace = 0, debug = 1, info = 2, warn = 3, error = 4, off = 5 };

using log_sink = std::function<void(log_level, std::string_view message)>;

void set_log_sink(log_sink sink);
void set_log_level(log_level level);
log_level current_log_level();
bool log_enabled(log_level level);
void log_message(log_level level, std::string_view message);
std::string_view to_string(log_level level);

}  // namespace parley

#define PARLEY_LOG(level, stream_expr)                                   \
  do {                                                                   \
    if (::parley::log_enabled(::parley::log_level::level)) {             \
      std::ostringstream parley_log_os_;                                 \
      parley_log_os_ << stream_expr;                                     \
      ::parley::log_message(::parley::log_level::level, parley_log_os_.str()); \
    }                                                                    \
  } while (false)
