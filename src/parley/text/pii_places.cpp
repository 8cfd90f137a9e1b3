// find_pii, continued: e-mail addresses (typed and spoken), street addresses and dates of birth.
// The tokens and the other scanners: text/detail/pii_scan.hpp.
#include <algorithm>
#include <array>
#include <string>

#include "parley/text/detail/ascii.hpp"
#include "parley/text/detail/pii_scan.hpp"

namespace parley::text::detail {
namespace {

// ---------------------------------------------------------------------------------------------
// E-mail addresses.

bool is_local_char(char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool is_domain_char(char c) { return is_ascii_alnum(c) || c == '.' || c == '-'; }

}  // namespace

void scan_typed_emails(std::string_view s, std::vector<pii_span>& out) {
  for (std::size_t at = s.find('@'); at != std::string_view::npos; at = s.find('@', at + 1)) {
    std::size_t b = at;
    while (b > 0 && is_local_char(s[b - 1])) --b;
    while (b < at && (s[b] == '.' || s[b] == '-' || s[b] == '+')) ++b;
    if (b == at) continue;
    std::size_t e = at + 1;
    while (e < s.size() && is_domain_char(s[e])) ++e;
    while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-')) --e;  // "mail me at a@b.com."
    const std::string_view domain = s.substr(at + 1, e - at - 1);
    const std::size_t dot = domain.rfind('.');
    if (domain.empty() || domain[0] == '.' || domain[0] == '-' || dot == std::string_view::npos) continue;
    const std::string_view tld = domain.substr(dot + 1);
    if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), is_ascii_alpha)) continue;
    out.push_back({pii_kind::email, b, e});
  }
}

namespace {

bool is_tld(std::string_view w) {
  static constexpr std::array<std::string_view, 14> k_more{"mil", "be", "at", "dk", "fi",    "pl",    "ie",
                                                           "nz",  "cn", "br", "mx", "ru", "email", "online"};
  return is_common_tld(w) || in(k_more, w);
}

bool is_connector(const token& k) {
  if (k.kind == tok_kind::punct) return k.lower[0] == '.' || k.lower[0] == '_' || k.lower[0] == '-';
  return k.kind == tok_kind::word &&
         (k.lower == "dot" || k.lower == "underscore" || k.lower == "dash" || k.lower == "hyphen");
}
bool is_label(const token& k) { return k.kind == tok_kind::word || k.kind == tok_kind::number; }
bool is_digit_label(const token& k) { return k.kind == tok_kind::number || digit_word_value(k.lower); }

// Words that are not the user name before a spoken "at": "look at google dot com".
bool common_before_at(std::string_view w) {
  static constexpr std::array<std::string_view, 56> k{
      "look", "looking", "looked", "me", "us", "him", "her", "them", "it", "this", "that", "here", "there",
      "be", "is", "am", "are", "was", "were", "arrive", "arrived", "meet", "stay", "staying", "live", "lives",
      "work", "works", "working", "home", "office", "school", "once", "least", "all", "point", "sale", "available",
      "found", "online", "shop", "buy", "bought", "sold", "visit", "go", "went", "get", "got", "check", "see",
      "listed", "posted", "book", "booked", "now"};
  return in(k, w) || w.size() < 2;
}

bool is_email_cue_word(std::string_view w) {
  static constexpr std::array<std::string_view, 20> k{"email", "mail", "e", "address", "my", "is", "its", "it's",
                                                      "to", "the", "a", "use", "try", "contact", "write", "send",
                                                      "reach", "and", "or", "emails"};
  return in(k, w);
}

}  // namespace

void scan_spoken_emails(const std::vector<token>& t, std::vector<pii_span>& out) {
  for (std::size_t at = 1; at + 3 < t.size(); ++at) {
    if (!(is_word(t, at, "at") || (is_punct(t, at, '@') && (t[at].space_before || t[at + 1].space_before))))
      continue;
    // Domain: label (connector label)+, ending in a known top-level domain.
    std::size_t e = at + 1;
    if (!is_label(t[e])) continue;
    std::size_t end_tok = 0;
    ++e;
    while (e + 1 < t.size() && is_connector(t[e]) && is_label(t[e + 1])) {
      if ((t[e].lower == "dot" || t[e].lower == ".") && is_tld(t[e + 1].lower)) end_tok = e + 2;
      e += 2;
    }
    if (end_tok == 0) continue;
    // Local part: label, then leftwards (connector label)* or digits.
    std::size_t b = at - 1;
    if (!is_label(t[b])) continue;
    bool joined = false, digits = is_digit_label(t[b]);
    while (b >= 2 && is_connector(t[b - 1]) && is_label(t[b - 2])) {
      b -= 2;
      joined = true;
    }
    while (b >= 1 && is_digit_label(t[b]) && is_label(t[b - 1])) {
      --b;
      digits = true;
      while (b >= 2 && is_connector(t[b - 1]) && is_label(t[b - 2])) {
        b -= 2;
        joined = true;
      }
    }
    const auto before = words_before(t, b, 6);
    const bool cue = has_word(before, "email", 6) || has_word(before, "mail", 6) || has_word(before, "e-mail", 6) ||
                     has_word(before, "emails", 6) || has_word(before, "gmail", 6);
    if (!joined && !digits && !cue && common_before_at(t[b].lower)) continue;
    // "my email is john smith at gmail dot com": a name said in two words.
    if (cue && !joined && !digits && b >= 2 && t[b - 1].kind == tok_kind::word &&
               !common_before_at(t[b - 1].lower) && !is_email_cue_word(t[b - 1].lower)) {
      --b;
    }
    out.push_back({pii_kind::email, t[b].begin, t[end_tok - 1].end});
  }
}

namespace {


// ---------------------------------------------------------------------------------------------
// Street addresses and PO boxes.

bool is_street_suffix(std::string_view w) {
  static constexpr std::array<std::string_view, 43> k{
      "street", "st",     "avenue", "ave",     "av",      "road",    "rd",     "boulevard", "blvd",
      "lane",   "ln",     "drive",  "dr",      "court",   "ct",      "place",  "pl",        "terrace",
      "way",    "parkway", "pkwy",  "circle",  "cir",     "highway", "hwy",    "square",    "sq",
      "crescent", "close", "alley", "trail",   "row",     "plaza",   "gardens", "grove",    "mews",
      "pike",   "expressway", "freeway", "loop", "strasse", "straße", "rue"};
  return in(k, w);
}

bool is_direction(std::string_view w) {
  static constexpr std::array<std::string_view, 16> k{"n",     "s",     "e",         "w",         "ne",        "nw",
                                                      "se",    "sw",    "north",     "south",     "east",      "west",
                                                      "northeast", "northwest", "southeast", "southwest"};
  return in(k, w);
}

// Words that do not name streets, so "walk 2 blocks down the road", "a 10 minute drive", "came
// 3 best place" are not addresses: function words, units, counted things and a few adjectives.
bool not_a_street_name(std::string_view w) {
  static constexpr std::array<std::string_view, 55> k{
      "down",    "over",    "off",     "minute",  "minutes", "hour",    "hours",    "second",  "seconds",
      "day",     "days",    "week",    "weeks",   "month",   "months",  "year",     "years",   "mile",
      "miles",   "block",   "blocks",  "kilometer", "kilometers", "km", "foot",     "feet",    "step",
      "steps",   "time",    "times",   "percent", "dollar",  "dollars", "item",     "items",   "people",
      "person",  "best",    "first",   "last",    "next",    "other",   "different", "same",   "only",
      "whole",   "good",    "more",    "less",    "few",     "many",    "extra",    "lane",    "car",
      "cars"};
  return is_function_word(w, function_words::closed_class) || in(k, w) || is_street_suffix(w) || is_number_word(w);
}

bool is_ordinal_token(const token& k) {  // "5th", "42nd", "1st"
  const std::string& w = k.lower;
  std::size_t i = 0;
  while (i < w.size() && is_ascii_digit(w[i])) ++i;
  if (i == 0 || i > 3) return false;
  const std::string_view rest = std::string_view(w).substr(i);
  return rest == "st" || rest == "nd" || rest == "rd" || rest == "th";
}

bool is_name_word(const token& k) {
  if (k.kind != tok_kind::word) return false;
  if (is_ordinal_token(k)) return true;
  if (!std::all_of(k.lower.begin(), k.lower.end(), [](char c) { return is_ascii_alpha(c) || c == '\'' ||
                                                                        static_cast<unsigned char>(c) >= 0x80; }))
    return false;
  return !not_a_street_name(k.lower);
}

bool is_house_number_token(const token& k) {  // "221", "221b"
  if (k.kind == tok_kind::number) return k.lower.size() <= 6 && k.lower != "0";
  if (k.kind != tok_kind::word || k.lower.size() < 2 || k.lower.size() > 6) return false;
  const std::string& w = k.lower;
  return std::all_of(w.begin(), w.end() - 1, is_ascii_digit) && is_ascii_alpha(w.back());
}

// A unit designation after the street: "apt 4", "apartment 4b", "suite 200", "unit five", "#12".
std::size_t read_unit(const std::vector<token>& t, std::size_t j) {
  std::size_t k = j;
  if (is_punct(t, k, ',')) ++k;
  static constexpr std::array<std::string_view, 11> k_units{"apt", "apartment", "suite", "ste", "unit", "flat",
                                                            "floor", "fl", "room", "rm", "building"};
  if (k < t.size() && t[k].kind == tok_kind::word && in(k_units, t[k].lower)) {
    ++k;
  } else if (!is_punct(t, k, '#')) {
    return j;
  }
  if (is_punct(t, k, '.') || is_punct(t, k, '#')) ++k;
  if (is_word(t, k, "number") || is_word(t, k, "no")) ++k;
  if (k >= t.size()) return j;
  if (t[k].kind == tok_kind::number || is_house_number_token(t[k]) ||
      (t[k].kind == tok_kind::word && t[k].lower.size() == 1)) {
    return k + 1;
  }
  if (auto item = read_item(t, k, true)) {
    std::size_t e = item->tok_end;
    while (auto more = read_item(t, e, false)) e = more->tok_end;
    return e;
  }
  return j;
}

// ", Springfield, IL 62704": kept only when the ZIP code is there.
std::size_t read_city_zip(const std::vector<token>& t, std::size_t j) {
  std::size_t k = j;
  if (is_punct(t, k, ',')) ++k;
  std::size_t n_city = 0;
  while (n_city < 3 && k < t.size() && t[k].kind == tok_kind::word && t[k].upper_first) {
    ++k;
    ++n_city;
  }
  if (n_city == 0) return j;
  if (is_punct(t, k, ',')) ++k;
  if (k < t.size() && t[k].kind == tok_kind::word && t[k].upper_first) ++k;  // state: "IL", "Texas"
  if (k < t.size() && t[k].kind == tok_kind::number && t[k].lower.size() == 5) {
    ++k;
    if (is_punct(t, k, '-') && k + 1 < t.size() && t[k + 1].kind == tok_kind::number && t[k + 1].lower.size() == 4)
      k += 2;
    return k;
  }
  return j;
}

}  // namespace

void scan_addresses(const std::vector<token>& t, std::vector<pii_span>& out) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    // P.O. Box 42, "p o box four two", "post office box 12".
    {
      std::size_t k = i;
      if (is_word(t, k, "po") || is_word(t, k, "pob")) {
        ++k;
      } else if (is_word(t, k, "p")) {
        ++k;
        if (is_punct(t, k, '.')) ++k;
        if (!is_word(t, k, "o")) k = i;
        else ++k;
      } else if (is_word(t, k, "post") && is_word(t, k + 1, "office")) {
        k += 2;
      }
      if (k != i) {
        if (is_punct(t, k, '.')) ++k;
        if (is_word(t, k, "box")) {
          ++k;
          if (auto item = read_item(t, k, true)) {
            std::size_t e = item->tok_end;
            while (auto more = read_item(t, e, false)) e = more->tok_end;
            out.push_back({pii_kind::address, t[i].begin, t[e - 1].end});
            i = e - 1;
            continue;
          }
        }
      }
    }
    // House number.
    std::size_t j = 0;
    bool spoken = false;
    if (is_house_number_token(t[i])) {
      if (i > 0 && (is_punct(t, i - 1, '$') || is_punct(t, i - 1, '#'))) continue;
      j = i + 1;
    } else if (auto item = read_item(t, i, true); item && item->spoken) {
      spoken = true;
      std::size_t n_digits = item->digits.size();
      j = item->tok_end;
      while (auto more = read_item(t, j, false)) {
        if (!more->spoken || n_digits + more->digits.size() > 10) break;
        n_digits += more->digits.size();
        j = more->tok_end;
      }
      if (i > 0 && t[i - 1].kind == tok_kind::word) {
        static constexpr std::array<std::string_view, 8> k_det{"the", "a", "an", "this", "that", "every", "which",
                                                               "each"};
        if (in(k_det, t[i - 1].lower)) continue;
      }
    } else {
      continue;
    }
    // 1–3 name words, then a street suffix.
    std::size_t k = j;
    std::size_t n_names = 0;
    std::size_t suffix = 0;
    while (k < t.size() && n_names < 3 && is_name_word(t[k])) {
      ++k;
      ++n_names;
      if (k < t.size() && t[k].kind == tok_kind::word && is_street_suffix(t[k].lower)) {
        suffix = k;
        break;
      }
    }
    if (suffix == 0) continue;
    std::size_t e = suffix + 1;
    if (is_punct(t, e, '.') && !t[e].space_before && t[suffix].lower.size() <= 4) ++e;
    if (e < t.size() && t[e].kind == tok_kind::word && is_direction(t[e].lower) &&
        (t[e].lower.size() <= 2 ? (t[e].upper_first || spoken) : true)) {
      ++e;
    }
    e = read_unit(t, e);
    e = read_city_zip(t, e);
    out.push_back({pii_kind::address, t[i].begin, t[e - 1].end});
    i = e - 1;
  }
}

namespace {

// ---------------------------------------------------------------------------------------------
// Dates of birth.

// A day of the month at t[j]: "15", "15th", "fifteenth", "twenty first", "fifteen". Returns the
// end token.
std::size_t read_day(const std::vector<token>& t, std::size_t j) {
  if (j >= t.size()) return 0;
  const token& k = t[j];
  if (k.kind == tok_kind::number && k.lower.size() <= 2) {
    const int v = std::stoi(k.lower);
    if (v < 1 || v > 31) return 0;
    if (j + 1 < t.size() && !t[j + 1].space_before &&
        (is_word(t, j + 1, "st") || is_word(t, j + 1, "nd") || is_word(t, j + 1, "rd") || is_word(t, j + 1, "th")))
      return j + 2;
    return j + 1;
  }
  if (is_ordinal_token(k)) {
    const int v = std::stoi(k.lower);
    return v >= 1 && v <= 31 ? j + 1 : 0;
  }
  const auto v = read_spoken(t, j, {.range = number_range::tens, .ordinals = true, .decimals = false});
  return v && v->value >= 1 && v->value <= 31 ? v->end : 0;
}

constexpr number_options k_below_hundred{.range = number_range::tens, .decimals = false};

// A year at t[j]: "1990", "nineteen ninety", "nineteen eighty five", "two thousand and five",
// "twenty oh five". Returns the end token, 0 when none.
std::size_t read_year(const std::vector<token>& t, std::size_t j) {
  if (j >= t.size()) return 0;
  if (t[j].kind == tok_kind::number) return t[j].lower.size() == 4 ? j + 1 : 0;
  if (is_word(t, j, "two") && is_word(t, j + 1, "thousand")) {
    std::size_t k = j + 2;
    if (is_word(t, k, "and")) ++k;
    if (auto v = read_spoken(t, k, k_below_hundred)) return v->end;
    return j + 2;
  }
  if (!(is_word(t, j, "nineteen") || is_word(t, j, "twenty") || is_word(t, j, "eighteen"))) return 0;
  std::size_t k = j + 1;
  if (is_word(t, k, "oh") || is_word(t, k, "o")) {
    return k + 1 < t.size() && digit_word_value(t[k + 1].lower).value_or(0) >= 1 ? k + 2 : 0;
  }
  if (auto v = read_spoken(t, k, k_below_hundred); v && v->value >= 10) return v->end;
  return 0;
}

// A date starting at t[j]; returns the end token, 0 when none.
std::size_t read_date(const std::vector<token>& t, std::size_t j) {
  if (j >= t.size()) return 0;
  // Numeric: 03/15/1990, 15.03.1990, 1990-03-15.
  if (t[j].kind == tok_kind::number && j + 4 < t.size()) {
    const token &a = t[j], &s1 = t[j + 1], &b = t[j + 2], &s2 = t[j + 3], &c = t[j + 4];
    if (s1.kind == tok_kind::punct && s2.kind == tok_kind::punct && s1.lower == s2.lower &&
        (s1.lower == "/" || s1.lower == "-" || s1.lower == ".") && b.kind == tok_kind::number &&
        c.kind == tok_kind::number && !s1.space_before && !b.space_before && !s2.space_before && !c.space_before) {
      const bool ymd = a.lower.size() == 4 && b.lower.size() <= 2 && c.lower.size() <= 2;
      const bool dmy = a.lower.size() <= 2 && b.lower.size() <= 2 && (c.lower.size() == 4 || c.lower.size() == 2);
      if (ymd || dmy) return j + 5;
    }
  }
  std::size_t k = j;
  if (is_word(t, k, "the")) ++k;
  // Month first: "march 15, 1990", "march the fifteenth".
  if (k < t.size() && month_number(t[k].lower) > 0) {
    std::size_t m = k + 1;
    if (is_punct(t, m, '.')) ++m;
    if (is_word(t, m, "the")) ++m;
    const std::size_t d = read_day(t, m);
    if (d == 0) return 0;
    std::size_t y = is_punct(t, d, ',') ? d + 1 : d;
    const std::size_t ye = read_year(t, y);
    return ye ? ye : d;
  }
  // Day first: "the 15th of march 1990", "15 march 1990".
  const std::size_t d = read_day(t, k);
  if (d == 0) return 0;
  std::size_t m = is_word(t, d, "of") ? d + 1 : d;
  if (m >= t.size() || month_number(t[m].lower) == 0) return 0;
  ++m;
  std::size_t y = is_punct(t, m, ',') ? m + 1 : m;
  const std::size_t ye = read_year(t, y);
  return ye ? ye : m;
}

}  // namespace

void scan_dates_of_birth(const std::vector<token>& t, std::vector<pii_span>& out) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    const std::string& w = t[i].lower;
    const bool cue = w == "born" || w == "birthday" || w == "birthdate" || w == "dob" ||
                     (w == "birth" && i >= 2 && is_word(t, i - 1, "of") && is_word(t, i - 2, "date"));
    if (!cue) continue;
    for (std::size_t j = i + 1; j < t.size() && j <= i + 5; ++j) {
      if (const std::size_t e = read_date(t, j); e > j) {
        std::size_t b = j;
        if (is_word(t, b, "the")) ++b;
        out.push_back({pii_kind::date_of_birth, t[b].begin, t[e - 1].end});
        i = e - 1;
        break;
      }
    }
  }
}

}  // namespace parley::text::detail
