#include "parley/core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace parley {
namespace {

std::atomic<log_level> g_level{log_level::warn};
std::mutex g_sink_mutex;
log_sink& sink_ref() {
  static log_sink sink;
  return sink;
}

}  // namespace

void set_log_sink(log_sink sink) {
  std::lock_guard lock(g_sink_mutex);
  sink_ref() = std::move(sink);
}
void set_log_level(log_level level) { g_level.store(level, std::memory_order_relaxed); }
log_level current_log_level() { return g_level.load(std::memory_order_relaxed); }
bool log_enabled(log_level level) { return level >= g_level.load(std::memory_order_relaxed) && level != log_level::off; }

std::string_view to_string(log_level level) {
  switch (level) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::off: return "off";
  }
  return "?";
}

void log_message(log_level level, std::string_view message) {
  std::lock_guard lock(g_sink_mutex);
  if (sink_ref()) {
    sink_ref()(level, message);
    return;
  }
  std::string line = "parley ";
  line += to_string(level);
  line += ": ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace parley
