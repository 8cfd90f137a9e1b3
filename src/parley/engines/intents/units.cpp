#include "parley/engines/intents/units.hpp"

#include <array>
#include <unordered_map>
#include <vector>

namespace parley::intents {
namespace {

// Base units: second, meter, gram, milliliter, kelvin, meter per second.
constexpr double k_c_offset = 273.15;
constexpr double k_f_offset = 459.67;

const std::vector<unit_def>& units() {
  static const std::vector<unit_def> table = {
      // time
      {"second", "seconds", dimension::time, 1.0},
      {"minute", "minutes", dimension::time, 60.0},
      {"hour", "hours", dimension::time, 3600.0},
      {"day", "days", dimension::time, 86400.0},
      {"week", "weeks", dimension::time, 604800.0},
      {"year", "years", dimension::time, 365.0 * 86400.0},
      {"millisecond", "milliseconds", dimension::time, 0.001},
      {"month", "months", dimension::time, 30.436875 * 86400.0},  // the Gregorian average
      // length
      {"millimeter", "millimeters", dimension::length, 0.001},
      {"centimeter", "centimeters", dimension::length, 0.01},
      {"meter", "meters", dimension::length, 1.0},
      {"kilometer", "kilometers", dimension::length, 1000.0},
      {"inch", "inches", dimension::length, 0.0254},
      {"foot", "feet", dimension::length, 0.3048},
      {"yard", "yards", dimension::length, 0.9144},
      {"mile", "miles", dimension::length, 1609.344},
      // mass
      {"milligram", "milligrams", dimension::mass, 0.001},
      {"gram", "grams", dimension::mass, 1.0},
      {"kilogram", "kilograms", dimension::mass, 1000.0},
      {"ounce", "ounces", dimension::mass, 28.349523125},
      {"pound", "pounds", dimension::mass, 453.59237},
      {"stone", "stone", dimension::mass, 6350.29318},
      {"tonne", "tonnes", dimension::mass, 1e6},
      // volume (US customary)
      {"milliliter", "milliliters", dimension::volume, 1.0},
      {"liter", "liters", dimension::volume, 1000.0},
      {"teaspoon", "teaspoons", dimension::volume, 4.92892159375},
      {"tablespoon", "tablespoons", dimension::volume, 14.78676478125},
      {"fluid ounce", "fluid ounces", dimension::volume, 29.5735295625},
      {"cup", "cups", dimension::volume, 236.5882365},
      {"pint", "pints", dimension::volume, 473.176473},
      {"quart", "quarts", dimension::volume, 946.352946},
      {"gallon", "gallons", dimension::volume, 3785.411784},
      // temperature
      {"degree Celsius", "degrees Celsius", dimension::temperature, 1.0, k_c_offset},
      {"degree Fahrenheit", "degrees Fahrenheit", dimension::temperature, 5.0 / 9.0, k_f_offset},
      {"kelvin", "kelvin", dimension::temperature, 1.0, 0.0},
      {"degree", "degrees", dimension::temperature, 1.0, k_c_offset, true},
      // speed
      {"meter per second", "meters per second", dimension::speed, 1.0},
      {"kilometer per hour", "kilometers per hour", dimension::speed, 1000.0 / 3600.0},
      {"mile per hour", "miles per hour", dimension::speed, 1609.344 / 3600.0},
      {"knot", "knots", dimension::speed, 1852.0 / 3600.0},
  };
  return table;
}

const unit_def& by_name(std::string_view singular) {
  for (const auto& u : units()) {
    if (u.singular == singular) return u;
  }
  return units().front();
}

struct alias {
  std::array<std::string_view, 3> words;  // spoken form, unused trailing words empty
  std::string_view unit;                  // singular name in the table
};

const std::vector<alias>& aliases() {
  static const std::vector<alias> table = {
      {{"second"}, "second"}, {{"seconds"}, "second"}, {{"sec"}, "second"}, {{"secs"}, "second"},
      {{"minute"}, "minute"}, {{"minutes"}, "minute"}, {{"min"}, "minute"}, {{"mins"}, "minute"},
      {{"hour"}, "hour"}, {{"hours"}, "hour"}, {{"hr"}, "hour"}, {{"hrs"}, "hour"},
      {{"day"}, "day"}, {{"days"}, "day"}, {{"week"}, "week"}, {{"weeks"}, "week"},
      {{"year"}, "year"}, {{"years"}, "year"}, {{"month"}, "month"}, {{"months"}, "month"},
      {{"millisecond"}, "millisecond"}, {{"milliseconds"}, "millisecond"}, {{"ms"}, "millisecond"},
      {{"millimeter"}, "millimeter"}, {{"millimeters"}, "millimeter"}, {{"millimetre"}, "millimeter"},
      {{"millimetres"}, "millimeter"}, {{"mm"}, "millimeter"},
      {{"centimeter"}, "centimeter"}, {{"centimeters"}, "centimeter"}, {{"centimetre"}, "centimeter"},
      {{"centimetres"}, "centimeter"}, {{"cm"}, "centimeter"},
      {{"meter"}, "meter"}, {{"meters"}, "meter"}, {{"metre"}, "meter"}, {{"metres"}, "meter"},
      {{"kilometer"}, "kilometer"}, {{"kilometers"}, "kilometer"}, {{"kilometre"}, "kilometer"},
      {{"kilometres"}, "kilometer"}, {{"km"}, "kilometer"}, {{"kms"}, "kilometer"},
      {{"inch"}, "inch"}, {{"inches"}, "inch"},
      {{"foot"}, "foot"}, {{"feet"}, "foot"}, {{"ft"}, "foot"},
      {{"yard"}, "yard"}, {{"yards"}, "yard"}, {{"yd"}, "yard"},
      {{"mile"}, "mile"}, {{"miles"}, "mile"},
      {{"milligram"}, "milligram"}, {{"milligrams"}, "milligram"}, {{"mg"}, "milligram"},
      {{"gram"}, "gram"}, {{"grams"}, "gram"}, {{"gramme"}, "gram"}, {{"grammes"}, "gram"}, {{"g"}, "gram"},
      {{"kilogram"}, "kilogram"}, {{"kilograms"}, "kilogram"}, {{"kilo"}, "kilogram"}, {{"kilos"}, "kilogram"},
      {{"kg"}, "kilogram"}, {{"kgs"}, "kilogram"},
      {{"ounce"}, "ounce"}, {{"ounces"}, "ounce"}, {{"oz"}, "ounce"},
      {{"pound"}, "pound"}, {{"pounds"}, "pound"}, {{"lb"}, "pound"}, {{"lbs"}, "pound"},
      {{"stone"}, "stone"}, {{"stones"}, "stone"},
      {{"tonne"}, "tonne"}, {{"tonnes"}, "tonne"}, {{"metric", "ton"}, "tonne"}, {{"metric", "tons"}, "tonne"},
      {{"milliliter"}, "milliliter"}, {{"milliliters"}, "milliliter"}, {{"millilitre"}, "milliliter"},
      {{"millilitres"}, "milliliter"}, {{"ml"}, "milliliter"},
      {{"liter"}, "liter"}, {{"liters"}, "liter"}, {{"litre"}, "liter"}, {{"litres"}, "liter"}, {{"l"}, "liter"},
      {{"teaspoon"}, "teaspoon"}, {{"teaspoons"}, "teaspoon"}, {{"tsp"}, "teaspoon"},
      {{"tablespoon"}, "tablespoon"}, {{"tablespoons"}, "tablespoon"}, {{"tbsp"}, "tablespoon"},
      {{"fluid", "ounce"}, "fluid ounce"}, {{"fluid", "ounces"}, "fluid ounce"}, {{"fl", "oz"}, "fluid ounce"},
      {{"cup"}, "cup"}, {{"cups"}, "cup"},
      {{"pint"}, "pint"}, {{"pints"}, "pint"}, {{"quart"}, "quart"}, {{"quarts"}, "quart"},
      {{"gallon"}, "gallon"}, {{"gallons"}, "gallon"},
      {{"degrees", "celsius"}, "degree Celsius"}, {{"degree", "celsius"}, "degree Celsius"},
      {{"degrees", "centigrade"}, "degree Celsius"}, {{"celsius"}, "degree Celsius"},
      {{"centigrade"}, "degree Celsius"},
      {{"degrees", "fahrenheit"}, "degree Fahrenheit"}, {{"degree", "fahrenheit"}, "degree Fahrenheit"},
      {{"fahrenheit"}, "degree Fahrenheit"},
      {{"kelvin"}, "kelvin"}, {{"kelvins"}, "kelvin"}, {{"degrees", "kelvin"}, "kelvin"},
      {{"degrees"}, "degree"}, {{"degree"}, "degree"},
      {{"meters", "per", "second"}, "meter per second"}, {{"metres", "per", "second"}, "meter per second"},
      {{"meter", "per", "second"}, "meter per second"},
      {{"kilometers", "per", "hour"}, "kilometer per hour"}, {{"kilometres", "per", "hour"}, "kilometer per hour"},
      {{"kilometers", "an", "hour"}, "kilometer per hour"}, {{"kilometres", "an", "hour"}, "kilometer per hour"},
      {{"kilometer", "per", "hour"}, "kilometer per hour"}, {{"km", "per", "h"}, "kilometer per hour"},
      {{"kph"}, "kilometer per hour"}, {{"kmh"}, "kilometer per hour"},
      {{"miles", "per", "hour"}, "mile per hour"}, {{"miles", "an", "hour"}, "mile per hour"},
      {{"mile", "per", "hour"}, "mile per hour"}, {{"mph"}, "mile per hour"},
      {{"knot"}, "knot"}, {{"knots"}, "knot"},
  };
  return table;
}

/// Aliases by their first word.
const std::unordered_map<std::string_view, std::vector<const alias*>>& aliases_by_first_word() {
  static const auto index = [] {
    std::unordered_map<std::string_view, std::vector<const alias*>> m;
    for (const auto& a : aliases()) m[a.words[0]].push_back(&a);
    return m;
  }();
  return index;
}

}  // namespace

std::optional<unit_span> parse_unit_at(std::span<const std::string> words, std::size_t at) {
  if (at >= words.size()) return std::nullopt;
  const auto& index = aliases_by_first_word();
  const auto it = index.find(words[at]);
  if (it == index.end()) return std::nullopt;
  std::optional<unit_span> best;
  for (const alias* ap : it->second) {
    const alias& a = *ap;
    std::size_t n = 0;
    while (n < a.words.size() && !a.words[n].empty()) ++n;
    if (at + n > words.size()) continue;
    bool match = true;
    for (std::size_t k = 0; k < n && match; ++k) match = words[at + k] == a.words[k];
    if (match && (!best || n > best->end - best->begin)) best = unit_span{&by_name(a.unit), at, at + n};
  }
  return best;
}

std::string_view to_string(dimension d) {
  switch (d) {
    case dimension::time: return "time";
    case dimension::length: return "length";
    case dimension::mass: return "weight";
    case dimension::volume: return "volume";
    case dimension::temperature: return "temperature";
    case dimension::speed: return "speed";
  }
  return "time";
}

const unit_def* find_unit(std::string_view name) {
  for (const auto& u : units()) {
    if (u.singular == name || u.plural == name) return &u;
  }
  return nullptr;
}

double convert(double value, const unit_def& from, const unit_def& to) {
  const double base = (value + from.offset) * from.scale;
  return base / to.scale - to.offset;
}

const unit_def& resolve_vague(const unit_def& vague, const unit_def& other) {
  if (!vague.vague) return vague;
  return other.singular == "degree Fahrenheit" ? by_name("degree Celsius") : by_name("degree Fahrenheit");
}

std::string_view unit_name(const unit_def& unit, double value) {
  return value == 1.0 ? unit.singular : unit.plural;
}

}  // namespace parley::intents
