#include "parley/core/error.hpp"

namespace parley {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::io_error: return "io_error";
    case errc::unsupported_format: return "unsupported_format";
    case errc::empty_input: return "empty_input";
    case errc::cancelled: return "cancelled";
    case errc::timeout: return "timeout";
    case errc::engine_failure: return "engine_failure";
    case errc::unavailable: return "unavailable";
    case errc::internal: return "internal";
  }
  return "unknown";
}

std::string error::describe() const {
  std::string out(to_string(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

}  // namespace parley
