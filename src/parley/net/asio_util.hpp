// net/asio_util — the few Asio helpers the server's pieces share (internal to net/).
//
// strand_type / strand_of(): the concrete strand behind a socket's type-erased executor. Handlers
// that cross threads capture this type rather than an any_io_executor copy: its reference count is
// a std::shared_ptr, which ThreadSanitizer understands (Asio's own type-erased count uses a
// standalone fence it does not).
// as_tuple_awaitable: co_await an operation and get (error_code, ...) instead of an exception.
// log_coroutine_end: the completion handler of co_spawn(); logs an exception instead of losing it.
// Units: seconds_f() turns seconds (config) into a steady-clock duration.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>

#include "parley/core/log.hpp"

namespace parley::net {

using strand_type = boost::asio::strand<boost::asio::any_io_executor>;

inline constexpr auto as_tuple_awaitable = boost::asio::as_tuple(boost::asio::use_awaitable);

inline strand_type strand_of(const boost::asio::any_io_executor& ex) {
  if (const auto* s = ex.target<strand_type>()) return *s;
  return boost::asio::make_strand(ex);
}

inline std::chrono::steady_clock::duration seconds_f(double s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

inline void log_coroutine_end(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    PARLEY_LOG(error, "net: connection task failed: " << x.what());
  } catch (...) {
    PARLEY_LOG(error, "net: connection task failed");
  }
}

}  // namespace parley::net
