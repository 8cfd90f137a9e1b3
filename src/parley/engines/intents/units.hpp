// engines/intents/units — units of measure the local responder converts between.
//
// Role: a fixed table of everyday units (time, length, mass, volume, temperature, speed) with
// their spoken names ("kilometres", "km", "fluid ounces", "degrees fahrenheit"), recognised in a
// word list, and exact linear conversions through one base unit per dimension
// (base = (value + offset) × scale; the offset is non-zero only for temperatures).
// US customary volumes (cup, pint, quart, gallon, fluid ounce) are used.
// Threading: immutable tables; pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace parley::intents {

enum class dimension { time, length, mass, volume, temperature, speed };
std::string_view to_string(dimension d);

struct unit_def {
  std::string_view singular;  // as spoken in replies: "kilometer", "degree Celsius"
  std::string_view plural;    // "kilometers", "degrees Celsius"
  dimension dim = dimension::time;
  double scale = 1.0;   // base units per unit (after the offset)
  double offset = 0.0;  // added before scaling (temperatures only)
  bool vague = false;   // "degrees" with no scale: resolved against the other unit
};

struct unit_span {
  const unit_def* unit = nullptr;
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// The longest unit name starting at words[at] ("miles per hour" before "miles").
std::optional<unit_span> parse_unit_at(std::span<const std::string> words, std::size_t at);

/// The unit named `name` in the table (singular or plural spelling), for tests and tools.
const unit_def* find_unit(std::string_view name);

/// `value` in `from` expressed in `to`; both must share a dimension.
double convert(double value, const unit_def& from, const unit_def& to);

/// Celsius for a vague "degrees" converted to Fahrenheit, and Fahrenheit otherwise.
const unit_def& resolve_vague(const unit_def& vague, const unit_def& other);

/// "kilometer" for exactly 1, "kilometers" otherwise.
std::string_view unit_name(const unit_def& unit, double value);

}  // namespace parley::intents
