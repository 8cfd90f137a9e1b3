#include "parley/text/spoken.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <unordered_set>

#include "parley/text/detail/ascii.hpp"

namespace parley::text {
namespace {

using detail::iequals_ascii;
using detail::is_ascii_digit;

// ---------------------------------------------------------------------------------------------
// The tables.

constexpr std::array<std::string_view, 20> k_ones = {
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",
    "seven",   "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen",  "seventeen", "eighteen", "nineteen"};
constexpr std::array<std::string_view, 10> k_tens = {"",      "",      "twenty",  "thirty", "forty",
                                                     "fifty", "sixty", "seventy", "eighty", "ninety"};
constexpr std::array<std::string_view, 7> k_scales = {"",         "thousand",    "million",    "billion",
                                                      "trillion", "quadrillion", "quintillion"};
// The ordinals that are not the cardinal + "th" (nor "y" → "ieth").
constexpr std::pair<std::string_view, std::string_view> k_irregular_ordinals[] = {
    {"one", "first"}, {"two", "second"}, {"three", "third"}, {"five", "fifth"},
    {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}};
// Other spellings people and recognisers write.
constexpr std::pair<std::string_view, number_word> k_number_variants[] = {
    {"fourty", {number_word_kind::tens, 40, false}},
    {"nought", {number_word_kind::unit, 0, false}},
    {"naught", {number_word_kind::unit, 0, false}},
};

constexpr std::array<std::string_view, 12> k_months = {"January", "February", "March",     "April",
                                                       "May",     "June",     "July",      "August",
                                                       "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> k_weekdays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                        "Thursday", "Friday", "Saturday"};

// Function words, one list a layer (see function_words in the header).
constexpr std::string_view k_closed_class[] = {
    "the", "a",    "an",  "and", "or",   "of",   "to",    "in",  "on",  "at",  "for", "from", "with",
    "by",  "up",   "into", "out", "is",  "are",  "was",   "be",  "it",  "this", "that", "my", "your",
    "our", "their", "his", "her", "i",   "you",  "we",    "they", "me", "him", "them"};
constexpr std::string_view k_common_additions[] = {
    "were",  "been",   "being",  "am",     "do",     "does",      "did",      "its",    "these", "those",
    "us",    "can",    "could",  "would",  "will",   "should",    "shall",    "may",    "might", "have",
    "has",   "had",    "there",  "here",   "about",  "as",        "than",     "then",   "he",    "she",
    "just",  "also",   "get",    "got",    "some",   "any",       "very",     "if",     "so",    "tell",
    "know",  "want",   "need",   "let",    "what",   "when",      "where",    "who",    "whom",  "whose",
    "which", "why",    "how",    "really", "actually", "please",  "thing",    "something", "anything",
    "much",  "many",   "able",   "yet",    "still",  "say",       "make",     "go",     "way",   "one",
    "all",   "right",  "possible"};
constexpr std::string_view k_query_additions[] = {
    "ever", "explain", "describe", "mean", "give", "come", "it's", "i'm",
    // Weak content words: they shade a question more than they change it ("what *time* do you
    // open" = "when do you open", "do you *take* apple pay" = "can i *use* apple pay").
    "time", "year", "use", "take", "offer", "available", "real", "stay", "unable", "exactly", "usually",
    "normally", "allowed"};
constexpr std::string_view k_conversation_additions[] = {
    "doing",  "mine",    "myself",  "ours",   "yours",    "onto",   "upon",     "but",     "too",    "must",
    "having", "not",     "no",      "off",    "over",     "under",  "like",     "wanted",  "hey",    "hi",
    "ok",     "okay",    "um",      "uh",     "oh",       "well",   "maybe",    "kind",    "sort",   "ones",
    "more",   "most",    "other",   "another", "such",    "only",   "own",      "same",    "each",   "every",
    "both",   "few",     "again",   "once",   "now",      "going",  "said",     "things",  "wondering",
    "wonder", "curious", "question", "quick", "quickly",  "guys",   "folks",    "someone", "somebody"};

constexpr std::string_view k_hesitations[] = {"um", "umm", "uh",  "uhh", "uhm", "er",
                                              "erm", "ah", "hmm", "hm",  "mm",  "mhm"};

constexpr std::string_view k_common_tlds[] = {"com", "org", "net", "edu", "gov", "io", "ai", "co",  "uk", "de",
                                              "fr",  "es",  "it",  "nl",  "eu",  "us", "ca", "au",  "info", "biz",
                                              "app", "dev", "me",  "tv",  "xyz", "ch", "se", "no",  "jp",  "in"};

// Contractions the regular endings of expand_contraction do not cover.
constexpr std::pair<std::string_view, std::string_view> k_contractions[] = {
    // "'s" is also a possessive: only these read as "is" (or "us").
    {"what's", "what is"}, {"it's", "it is"},     {"that's", "that is"}, {"there's", "there is"},
    {"here's", "here is"}, {"how's", "how is"},   {"where's", "where is"}, {"who's", "who is"},
    {"when's", "when is"}, {"he's", "he is"},     {"she's", "she is"},   {"let's", "let us"},
    // Irregular.
    {"can't", "can not"},  {"won't", "will not"}, {"shan't", "shall not"}, {"i'm", "i am"},
    {"cannot", "can not"},
    // Without the apostrophe, as recognisers and quick typists write them.
    {"whats", "what is"},  {"thats", "that is"},  {"wheres", "where is"}, {"cant", "can not"},
    {"dont", "do not"},    {"doesnt", "does not"}, {"didnt", "did not"}, {"isnt", "is not"},
    {"wont", "will not"},  {"im", "i am"},
    // Informal spellings.
    {"gonna", "going to"}, {"wanna", "want to"},  {"gotta", "got to"},   {"y'all", "you"},
    {"ya", "you"},         {"u", "you"},          {"ur", "your"},        {"pls", "please"},
    {"plz", "please"},     {"thx", "thanks"},
};

void append_word(std::string& out, std::string_view word) {
  if (word.empty()) return;
  if (!out.empty()) out += ' ';
  out += word;
}

std::string below_hundred(unsigned n) {
  if (n < 20) return std::string(k_ones[n]);
  std::string s(k_tens[n / 10]);
  if (n % 10 != 0) (s += '-') += k_ones[n % 10];
  return s;
}

std::string below_thousand(unsigned n) {
  std::string s;
  if (n >= 100) {
    s = std::string(k_ones[n / 100]) + " hundred";
    n %= 100;
    if (n == 0) return s;
    s += ' ';
  }
  return s + below_hundred(n);
}

/// "one" → "first", "twenty" → "twentieth", "hundred" → "hundredth".
std::string ordinal_of(std::string_view cardinal) {
  for (const auto& [card, ord] : k_irregular_ordinals) {
    if (cardinal == card) return std::string(ord);
  }
  if (cardinal.ends_with('y')) return std::string(cardinal.substr(0, cardinal.size() - 1)) + "ieth";
  return std::string(cardinal) + "th";
}

/// Every number word, cardinal and ordinal, built once from the tables above.
const std::map<std::string, number_word, std::less<>>& number_words() {
  static const auto table = [] {
    std::map<std::string, number_word, std::less<>> t;
    auto add = [&](std::string_view card, number_word_kind kind, std::uint64_t value) {
      t.emplace(std::string(card), number_word{kind, value, false});
      if (value != 0) t.emplace(ordinal_of(card), number_word{kind, value, true});
    };
    for (std::uint64_t v = 0; v < k_ones.size(); ++v) {
      add(k_ones[v], v < 10 ? number_word_kind::unit : number_word_kind::teen, v);
    }
    for (std::uint64_t v = 2; v < k_tens.size(); ++v) add(k_tens[v], number_word_kind::tens, v * 10);
    add("hundred", number_word_kind::hundred, 100);
    std::uint64_t scale = 1;
    for (std::size_t s = 1; s < k_scales.size(); ++s) add(k_scales[s], number_word_kind::scale, scale *= 1000);
    for (const auto& [word, nw] : k_number_variants) t.emplace(std::string(word), nw);
    return t;
  }();
  return table;
}

bool in(std::span<const std::string_view> list, std::string_view w) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

// ---------------------------------------------------------------------------------------------
// The number parser.

enum class last_kind { none, unit, teen, tens, hundred, scale };

// The largest scale read: "trillion". Every reading then stays below 2^53, exact in a double.
constexpr std::uint64_t k_largest_read_scale = 1'000'000'000'000;

/// "half" → 0.5, "quarters" → 0.25, "third" → 1/3 (singular and plural).
std::optional<double> fraction_value(std::string_view w) {
  if (w == "half" || w == "halves") return 0.5;
  if (w == "quarter" || w == "quarters") return 0.25;
  if (w == "third" || w == "thirds") return 1.0 / 3.0;
  return std::nullopt;
}

std::optional<double> digits_value(std::string_view w) {
  if (w.empty() || !is_ascii_digit(w.front())) return std::nullopt;
  double v = 0.0;
  const auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
  if (ec != std::errc() || ptr != w.data() + w.size()) return std::nullopt;
  return v;
}

/// The shortest decimal form of a finite value: 3500000, 2.5, 0.3333333333333333.
std::string decimal_text(double v) {
  std::array<char, 512> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf.data(), end) : std::string();
}

template <class Word>
class number_parser {
 public:
  number_parser(std::span<const Word> words, std::size_t at, const number_options& options)
      : w_(words), i_(at), o_(options) {}

  std::optional<number_reading> run() {
    const std::size_t begin = i_;
    bool negative = false;
    if (o_.signs && (word(0) == "minus" || word(0) == "negative") && (starts_cardinal(word(1)) || word(1) == "a")) {
      negative = true;
      ++i_;
    }
    const std::optional<double> whole = leading();
    if (!whole) return std::nullopt;
    double value = *whole;
    if (!ordinal_ && o_.decimals) value = decimals(value);
    if (!ordinal_ && o_.fractions) value = fraction_tail(value);

    number_reading r;
    r.begin = begin;
    r.end = i_;
    r.value = negative ? -value : value;
    r.ordinal = ordinal_;
    r.written = exact_ ? decimal_text(*whole) + (decimal_digits_.empty() ? "" : "." + decimal_digits_)
                       : decimal_text(value);
    if (ordinal_) r.written += ordinal_suffix(static_cast<std::uint64_t>(*whole));
    if (negative && value != 0.0) r.written.insert(0, 1, '-');
    return r;
  }

 private:
  std::string_view word(std::size_t ahead) const {
    return i_ + ahead < w_.size() ? std::string_view(w_[i_ + ahead]) : std::string_view();
  }

  /// A number word this reading accepts: within the range, ordinals only when asked for.
  std::optional<number_word> number_word_at(std::size_t ahead) const {
    auto nw = read_number_word(word(ahead));
    if (!nw || (nw->ordinal && !o_.ordinals)) return std::nullopt;
    if (nw->kind == number_word_kind::hundred && o_.range == number_range::tens) return std::nullopt;
    if (nw->kind == number_word_kind::scale && (o_.range != number_range::any || nw->value > k_largest_read_scale)) {
      return std::nullopt;
    }
    return nw;
  }
  /// A unit, teen or tens word above zero: what may follow "and" or a hundred.
  bool continues_at(std::size_t ahead) const {
    const auto nw = number_word_at(ahead);
    return nw && nw->value > 0 &&
           (nw->kind == number_word_kind::unit || nw->kind == number_word_kind::teen ||
            nw->kind == number_word_kind::tens);
  }
  bool starts_cardinal(std::string_view w) const {
    const auto nw = read_number_word(w);
    const bool small = nw && !nw->ordinal &&
                       (nw->kind == number_word_kind::unit || nw->kind == number_word_kind::teen ||
                        nw->kind == number_word_kind::tens);
    return small || (o_.digits && digits_value(w)) || w == "point";
  }

  std::optional<double> leading() {
    const std::string_view w = word(0);
    if (w == "a" || w == "an") {
      const std::string_view next = word(1);
      const auto nw = number_word_at(1);
      if (nw && !nw->ordinal && (nw->kind == number_word_kind::hundred || nw->kind == number_word_kind::scale)) {
        i_ += 1;  // "a" stands for "one"; the cardinal loop reads the hundred or the scale
        return cardinal(1.0, last_kind::unit);
      }
      if (o_.fractions && next == "dozen") {
        i_ += 2;
        exact_ = false;
        return 12.0;
      }
      if (o_.fractions && (next == "half" || next == "quarter" || next == "third")) {
        i_ += 2;
        exact_ = false;
        return *fraction_value(next);
      }
      return std::nullopt;
    }
    if (o_.fractions && w == "half") {
      ++i_;
      exact_ = false;
      return 0.5;
    }
    if (o_.fractions && w == "point") {
      if (!digit_word_value(word(1)) && !(o_.digits && digits_value(word(1)))) return std::nullopt;
      return 0.0;  // decimals() reads the rest
    }
    if (o_.oh_is_zero && (w == "oh" || w == "o")) {
      ++i_;
      return 0.0;
    }
    if (o_.digits) {
      if (auto d = digits_value(w)) {
        ++i_;
        double value = *d;
        exact_ = value == std::floor(value);
        if (word(0) == "hundred") {
          value *= 100.0;
          ++i_;
        }
        if (auto s = number_word_at(0); s && s->kind == number_word_kind::scale && !s->ordinal) {
          value *= static_cast<double>(s->value);
          ++i_;
        }
        return value;
      }
    }
    const auto nw = number_word_at(0);
    if (!nw || nw->kind == number_word_kind::hundred || nw->kind == number_word_kind::scale) return std::nullopt;
    return cardinal(0.0, last_kind::none);
  }

  // Spelled-out cardinals: a small state machine over unit/teen/tens/hundred/scale words.
  std::optional<double> cardinal(double current, last_kind last) {
    double total = 0.0;
    double last_scale = 1e300;
    bool any = last != last_kind::none;
    while (i_ < w_.size()) {
      const std::string_view w = word(0);
      if (const auto nw = number_word_at(0)) {
        const double v = static_cast<double>(nw->value);
        const bool fresh = last == last_kind::none || last == last_kind::hundred || last == last_kind::scale;
        bool ok = false;
        switch (nw->kind) {
          case number_word_kind::unit:
          case number_word_kind::teen:
            // Zero stands alone: "zero", never "a hundred zero" or "twenty zero".
            ok = (fresh && (v > 0 || last == last_kind::none)) ||
                 (last == last_kind::tens && nw->kind == number_word_kind::unit && v > 0);
            if (ok) current += v, last = nw->kind == number_word_kind::teen ? last_kind::teen : last_kind::unit;
            break;
          case number_word_kind::tens:
            ok = fresh;
            if (ok) current += v, last = last_kind::tens;
            break;
          case number_word_kind::hundred:
            ok = (last == last_kind::unit || last == last_kind::teen || last == last_kind::tens) && current > 0 &&
                 current < 100;
            if (ok) current *= 100.0, last = last_kind::hundred;
            break;
          case number_word_kind::scale:
            ok = last != last_kind::none && last != last_kind::scale && v < last_scale && current != 0.0;
            if (ok) total += current * v, current = 0.0, last_scale = v, last = last_kind::scale;
            break;
        }
        if (!ok) break;
        any = true;
        ++i_;
        if (nw->ordinal) {
          ordinal_ = true;
          break;
        }
        continue;
      }
      if (w == "-" && last == last_kind::tens && continues_at(1) &&
          read_number_word(word(1))->kind == number_word_kind::unit) {
        ++i_;  // "forty-two" kept as "forty", "-", "two"
        continue;
      }
      if (w == "and" && (last == last_kind::hundred || last == last_kind::scale) && continues_at(1)) {
        ++i_;  // "a hundred and five", "two thousand and ten": the number goes on after "and"
        continue;
      }
      break;
    }
    if (!any) return std::nullopt;
    return total + current;
  }

  double decimals(double value) {
    if (word(0) != "point") return value;
    if (o_.digits) {
      if (auto d = digits_value(word(1)); d && word(1).find('.') == std::string_view::npos) {
        decimal_digits_ = std::string(word(1));
        i_ += 2;
        return value + *d / std::pow(10.0, static_cast<double>(decimal_digits_.size()));
      }
    }
    double scale = 0.1;
    std::size_t n = 0;
    std::string digits;
    while (auto d = digit_word_value(word(1 + n))) {
      value += *d * scale;
      scale /= 10.0;
      digits += static_cast<char>('0' + *d);
      ++n;
    }
    if (n > 0) {
      i_ += 1 + n;
      decimal_digits_ = std::move(digits);
    }
    return value;
  }

  double fraction_tail(double value) {
    const bool whole = value == std::floor(value);
    // "three quarters", "one half", "two thirds"
    if (whole && value >= 1.0 && value <= 10.0) {
      if (auto f = fraction_value(word(0)); f && (word(0) != "third" || value == 1.0)) {
        ++i_;
        exact_ = false;
        return value * *f;
      }
    }
    if (word(0) != "and") return value;
    // "two and a half", "one and a quarter"
    if ((word(1) == "a" || word(1) == "an" || word(1) == "one") &&
        (word(2) == "half" || word(2) == "quarter" || word(2) == "third")) {
      value += *fraction_value(word(2));
      i_ += 3;
      exact_ = false;
      return value;
    }
    // "two and three quarters"
    if (const auto n = read_number_word(word(1)); n && !n->ordinal && n->kind == number_word_kind::unit &&
                                                   n->value >= 1 && fraction_value(word(2))) {
      value += static_cast<double>(n->value) * *fraction_value(word(2));
      i_ += 3;
      exact_ = false;
    }
    return value;
  }

  std::span<const Word> w_;
  std::size_t i_;
  const number_options& o_;
  bool ordinal_ = false;
  bool exact_ = true;           // the whole part is an integer and no fraction was added
  std::string decimal_digits_;  // after "point", as spoken
};

}  // namespace

// --- numbers: value → words --------------------------------------------------------------------

std::string cardinal_words(std::uint64_t n) {
  if (n == 0) return "zero";
  std::vector<unsigned> groups;
  for (; n != 0; n /= 1000) groups.push_back(static_cast<unsigned>(n % 1000));
  std::string out;
  for (std::size_t i = groups.size(); i-- > 0;) {
    if (groups[i] == 0) continue;
    append_word(out, below_thousand(groups[i]));
    append_word(out, k_scales[i]);
  }
  return out;
}

std::string ordinal_words(std::uint64_t n) {
  std::string words = cardinal_words(n);
  const std::size_t cut = words.find_last_of(" -") + 1;  // npos + 1 == 0
  const std::string last = words.substr(cut);
  words.resize(cut);
  return words + ordinal_of(last);
}

std::string year_words(std::uint64_t year) {
  if (year < 1000 || year > 9999) return cardinal_words(year);
  const unsigned hi = static_cast<unsigned>(year / 100), lo = static_cast<unsigned>(year % 100);
  if (year % 1000 == 0 || (year > 2000 && year < 2010)) return cardinal_words(year);
  if (lo == 0) return below_hundred(hi) + " hundred";
  if (lo < 10) return below_hundred(hi) + " oh " + std::string(k_ones[lo]);
  return below_hundred(hi) + " " + below_hundred(lo);
}

std::string digit_words(std::string_view digits) {
  std::string out;
  for (const char c : digits) {
    if (is_ascii_digit(c)) append_word(out, k_ones[static_cast<std::size_t>(c - '0')]);
  }
  return out;
}

std::string_view ordinal_suffix(std::uint64_t n) {
  const auto r100 = n % 100;
  if (r100 >= 11 && r100 <= 13) return "th";
  switch (n % 10) {
    case 1: return "st";
    case 2: return "nd";
    case 3: return "rd";
    default: return "th";
  }
}

// --- numbers: words → value --------------------------------------------------------------------

std::optional<number_word> read_number_word(std::string_view word) {
  const auto& table = number_words();
  if (auto it = table.find(word); it != table.end()) return it->second;
  return std::nullopt;
}

std::optional<unsigned> digit_word_value(std::string_view word) {
  if (word == "oh" || word == "o") return 0u;
  if (const auto nw = read_number_word(word); nw && nw->kind == number_word_kind::unit && !nw->ordinal) {
    return static_cast<unsigned>(nw->value);
  }
  return std::nullopt;
}

std::optional<number_reading> read_number(std::span<const std::string> words, std::size_t at,
                                          const number_options& options) {
  if (at >= words.size()) return std::nullopt;
  return number_parser<std::string>(words, at, options).run();
}

std::optional<number_reading> read_number(std::span<const std::string_view> words, std::size_t at,
                                          const number_options& options) {
  if (at >= words.size()) return std::nullopt;
  return number_parser<std::string_view>(words, at, options).run();
}

// --- calendar ----------------------------------------------------------------------------------

std::string_view month_name(unsigned month) { return month >= 1 && month <= 12 ? k_months[month - 1] : ""; }

unsigned month_number(std::string_view word) {
  if (word.size() < 3) return 0;
  for (unsigned m = 1; m <= 12; ++m) {
    const std::string_view name = k_months[m - 1];
    if (iequals_ascii(word, name) || iequals_ascii(word, name.substr(0, 3))) return m;
  }
  return iequals_ascii(word, "sept") ? 9 : 0;
}

std::string_view weekday_name(unsigned weekday) { return weekday < 7 ? k_weekdays[weekday] : ""; }

std::optional<unsigned> weekday_number(std::string_view word) {
  for (unsigned d = 0; d < 7; ++d) {
    if (iequals_ascii(word, k_weekdays[d])) return d;
  }
  return std::nullopt;
}

// --- function words ----------------------------------------------------------------------------

bool is_function_word(std::string_view word, function_words set) {
  if (in(k_closed_class, word)) return true;
  if (set == function_words::closed_class) return false;
  if (in(k_common_additions, word)) return true;
  switch (set) {
    case function_words::query: return in(k_query_additions, word);
    case function_words::conversation: return in(k_conversation_additions, word);
    default: return false;
  }
}

bool is_hesitation(std::string_view word) { return in(k_hesitations, word); }

// --- web addresses -----------------------------------------------------------------------------

bool is_common_tld(std::string_view label) { return in(k_common_tlds, label); }

// --- contractions ------------------------------------------------------------------------------

std::vector<std::string> expand_contraction(std::string_view word) {
  while (word.starts_with('\'')) word.remove_prefix(1);
  while (word.ends_with('\'')) word.remove_suffix(1);
  if (word.empty()) return {};
  std::vector<std::string> out;
  auto push = [&](std::string_view w) {  // without its apostrophes
    std::string clean;
    for (const char c : w)
      if (c != '\'') clean += c;
    if (!clean.empty()) out.push_back(std::move(clean));
  };
  for (const auto& [written, said] : k_contractions) {
    if (word != written) continue;
    for (std::size_t at = 0; at <= said.size();) {
      const std::size_t space = std::min(said.find(' ', at), said.size());
      out.emplace_back(said.substr(at, space - at));
      at = space + 1;
    }
    return out;
  }
  auto ends = [&](std::string_view suffix, std::size_t min_size) {
    return word.size() > min_size && word.ends_with(suffix);
  };
  if (ends("n't", 3)) {
    push(word.substr(0, word.size() - 3));
    out.emplace_back("not");
  } else if (ends("'s", 2)) {  // a possessive ("today's"), or an "is" no table names
    push(word.substr(0, word.size() - 2));
  } else if (ends("'re", 3) || ends("'ll", 3) || ends("'ve", 3)) {
    push(word.substr(0, word.size() - 3));
    const std::string_view tail = word.substr(word.size() - 2);
    out.emplace_back(tail == "re" ? "are" : tail == "ll" ? "will" : "have");
  } else if (ends("'d", 2)) {
    push(word.substr(0, word.size() - 2));
    out.emplace_back("would");
  } else {
    push(word);
  }
  return out;
}

}  // namespace parley::text
