// core/error — errors as values on the data path.
//
// Role: `result<T>` carries either a value or an `error` (a code plus a human-readable, PII-free
// message). Exceptions are used only at start-up/config and are caught at adapter boundaries;
// everything that can fail while a session runs returns a result instead.
// Threading: plain value types.
//
//   parley::result<int> parse(std::string_view s);
//   if (auto r = parse("42")) use(*r); else log(r.error().message);
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace parley {

enum class errc {
  invalid_argument,   // bad input from the caller or from outside
  not_found,          // a file, voice, model or entry that does not exist
  io_error,           // reading or writing failed
  unsupported_format, // the input is not in a format parley can read
  empty_input,        // the input is valid but holds nothing (e.g. a WAV with no samples)
  cancelled,          // the work was cancelled (interrupt, shutdown); not a failure
  timeout,            // a deadline passed
  engine_failure,     // an engine (ASR, LLM, TTS) failed
  unavailable,        // a provider is down or refused
  internal,           // a bug: an invariant did not hold
};

std::string_view to_string(errc code);

struct error {
  errc code = errc::internal;
  std::string message;

  /// "code: message", for logs and one-line CLI errors.
  std::string describe() const;
};

inline error make_error(errc code, std::string message) { return error{code, std::move(message)}; }

/// Either a T or an error. A minimal stand-in for C++23 std::expected.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  result(struct error e) : v_(std::in_place_index<1>, std::move(e)) {}      // NOLINT: implicit by design

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const struct error& error() const { assert(!has_value()); return std::get<1>(v_); }

 private:
  std::variant<T, struct error> v_;
};

template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(struct error e) : err_(std::move(e)), ok_(false) {}  // NOLINT: implicit by design
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const struct error& error() const { assert(!ok_); return err_; }

 private:
  struct error err_;
  bool ok_ = true;
};

using status = result<void>;

}  // namespace parley
