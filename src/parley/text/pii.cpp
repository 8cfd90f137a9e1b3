#include "parley/text/pii.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "parley/text/detail/ascii.hpp"

namespace parley::text {
namespace {

using detail::is_ascii_alnum;
using detail::is_ascii_alpha;
using detail::is_ascii_digit;
using detail::is_ascii_upper;
using detail::is_space;

// ---------------------------------------------------------------------------------------------
// Tokens: words (letters, digits, UTF-8 bytes), numbers (digits only) and single punctuation
// bytes, with their byte ranges.

enum class tok_kind { word, number, punct };

struct token {
  std::size_t begin = 0;
  std::size_t end = 0;
  tok_kind kind = tok_kind::punct;
  std::string lower;        // ASCII lower-cased text
  bool space_before = true; // white space (or the start) right before it
  bool upper_first = false; // typed with a capital first letter
};

char lower_ascii(char c) { return is_ascii_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_word_byte(char c) { return is_ascii_alnum(c) || static_cast<unsigned char>(c) >= 0x80; }

std::vector<token> tokenize(std::string_view s) {
  std::vector<token> out;
  bool space = true;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      space = true;
      ++i;
      continue;
    }
    token t;
    t.begin = i;
    t.space_before = space;
    std::size_t j = i + 1;
    if (is_word_byte(c)) {
      while (j < s.size() && (is_word_byte(s[j]) || (s[j] == '\'' && j + 1 < s.size() && is_ascii_alpha(s[j + 1]) &&
                                                      is_ascii_alpha(s[j - 1]))))
        ++j;
      const std::string_view w = s.substr(i, j - i);
      t.kind = std::all_of(w.begin(), w.end(), is_ascii_digit) ? tok_kind::number : tok_kind::word;
      t.upper_first = is_ascii_upper(c);
    } else {
      t.kind = tok_kind::punct;
    }
    t.end = j;
    t.lower.reserve(j - i);
    for (std::size_t k = i; k < j; ++k) t.lower.push_back(lower_ascii(s[k]));
    out.push_back(std::move(t));
    space = false;
    i = j;
  }
  return out;
}

bool is_punct(const std::vector<token>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == tok_kind::punct && t[i].lower[0] == c;
}
bool is_word(const std::vector<token>& t, std::size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == tok_kind::word && t[i].lower == w;
}

template <std::size_t N>
bool in(const std::array<std::string_view, N>& list, std::string_view w) {
  return std::find(list.begin(), list.end(), w) != list.end();
}

// ---------------------------------------------------------------------------------------------
// Spoken and typed digits.

int ones_value(std::string_view w) {  // zero..nine ("oh"/"o" too), else -1
  static constexpr std::array<std::string_view, 10> k{"zero", "one", "two", "three", "four",
                                                      "five", "six", "seven", "eight", "nine"};
  for (std::size_t i = 0; i < k.size(); ++i)
    if (k[i] == w) return static_cast<int>(i);
  if (w == "oh" || w == "o") return 0;
  return -1;
}
int teens_value(std::string_view w) {  // ten..nineteen, else -1
  static constexpr std::array<std::string_view, 10> k{"ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                                      "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
  for (std::size_t i = 0; i < k.size(); ++i)
    if (k[i] == w) return static_cast<int>(10 + i);
  return -1;
}
int tens_value(std::string_view w) {  // twenty..ninety, else -1
  static constexpr std::array<std::string_view, 8> k{"twenty", "thirty",  "forty",  "fifty",
                                                     "sixty",  "seventy", "eighty", "ninety"};
  for (std::size_t i = 0; i < k.size(); ++i)
    if (k[i] == w) return static_cast<int>(20 + 10 * i);
  if (w == "fourty") return 40;
  return -1;
}
bool is_number_word(std::string_view w) {
  return ones_value(w) >= 0 || teens_value(w) >= 0 || tens_value(w) >= 0 || w == "hundred" || w == "double" ||
         w == "triple";
}

struct digit_item {
  std::string digits;
  std::size_t tok_begin = 0;  // token range [tok_begin, tok_end)
  std::size_t tok_end = 0;
  bool spoken = false;
  int value = -1;  // the spoken value (for the counting check); -1 for typed digits
};

// A number below 100 spoken as words at t[i]: "seven", "twelve", "forty two", "forty-two".
// `allow_oh`: "oh"/"o" read as zero. Returns the value and the end token.
std::optional<std::pair<int, std::size_t>> read_below_100(const std::vector<token>& t, std::size_t i,
                                                         bool allow_oh) {
  if (i >= t.size() || t[i].kind != tok_kind::word) return std::nullopt;
  const std::string& w = t[i].lower;
  if (int v = ones_value(w); v >= 0) {
    if (!allow_oh && (w == "oh" || w == "o")) return std::nullopt;
    return std::pair{v, i + 1};
  }
  if (int v = teens_value(w); v >= 0) return std::pair{v, i + 1};
  if (int v = tens_value(w); v >= 0) {
    std::size_t j = i + 1;
    if (is_punct(t, j, '-') && !t[j].space_before && j + 1 < t.size() && !t[j + 1].space_before) ++j;
    if (j < t.size() && t[j].kind == tok_kind::word) {
      const int u = ones_value(t[j].lower);
      if (u >= 1 && t[j].lower != "o") return std::pair{v + u, j + 1};
    }
    return std::pair{v, i + 1};
  }
  return std::nullopt;
}

std::optional<digit_item> read_item(const std::vector<token>& t, std::size_t i, bool first) {
  if (i >= t.size()) return std::nullopt;
  const token& k = t[i];
  if (k.kind == tok_kind::number) {
    if (k.lower.size() > 40) return std::nullopt;
    return digit_item{k.lower, i, i + 1, false, -1};
  }
  if (k.kind != tok_kind::word) return std::nullopt;
  if (k.lower == "double" || k.lower == "triple") {
    const auto d = read_below_100(t, i + 1, true);
    if (!d || d->first > 9 || d->second != i + 2) return std::nullopt;
    const std::size_t n = k.lower == "double" ? 2 : 3;
    return digit_item{std::string(n, static_cast<char>('0' + d->first)), i, i + 2, true, -1};
  }
  const auto v = read_below_100(t, i, !first);
  if (!v) return std::nullopt;
  digit_item item{std::to_string(v->first), i, v->second, true, v->first};
  if (t[i].lower == "oh" || t[i].lower == "o" || t[i].lower == "zero") item.digits.assign(1, '0');  // not = "0": GCC 12 -O2 warns falsely (-Wrestrict)
  // "eight hundred", "one hundred and five", "nineteen hundred": hundreds read as a whole number.
  if (v->first >= 1 && is_word(t, v->second, "hundred")) {
    int value = v->first * 100;
    std::size_t j = v->second + 1;
    std::size_t after_and = is_word(t, j, "and") ? j + 1 : j;
    if (const auto rest = read_below_100(t, after_and, false); rest && rest->first >= 1) {
      value += rest->first;
      j = rest->second;
    }
    item.digits = std::to_string(value);
    item.tok_end = j;
    item.value = -1;
  }
  return item;
}

// A run of digit items joined by white space or separators: "555-123-4567", "(555) 123 4567",
// "five five five, one two three", "+44 20 7946 0958", "plus one eight hundred ...".
struct digit_seq {
  std::vector<digit_item> items;
  std::vector<std::string> seps;  // seps[k]: separator bytes before items[k] ("" = white space)
  bool plus = false;              // led by "+" or "plus"
  std::size_t lead_tok = 0;       // first token of the whole run ('+', '(' included)
};

bool is_sep_token(const token& k) {
  if (k.kind == tok_kind::punct) {
    const char c = k.lower[0];
    return c == '-' || c == '.' || c == '(' || c == ')' || c == ',';
  }
  return k.kind == tok_kind::word && (k.lower == "dash" || k.lower == "hyphen");
}

std::optional<digit_seq> read_sequence(const std::vector<token>& t, std::size_t i) {
  digit_seq seq;
  seq.lead_tok = i;
  std::size_t j = i;
  if (is_punct(t, j, '+')) {
    // "+44", "+1 (555)": a typed plus sign sticks to its digits.
    if (j + 1 >= t.size() || t[j + 1].space_before ||
        !(t[j + 1].kind == tok_kind::number || is_punct(t, j + 1, '(')))
      return std::nullopt;
    seq.plus = true;
    ++j;
  } else if (is_word(t, j, "plus")) {
    seq.plus = true;
    ++j;
  }
  if (is_punct(t, j, '(')) ++j;
  auto first = read_item(t, j, true);
  if (!first) return std::nullopt;
  seq.items.push_back(std::move(*first));
  seq.seps.emplace_back();
  constexpr std::size_t k_max_items = 64;
  while (seq.items.size() < k_max_items) {
    const digit_item& prev = seq.items.back();
    std::size_t k = prev.tok_end;
    std::string sep;
    bool sentence_end = false;
    while (k < t.size() && sep.size() < 3 && is_sep_token(t[k])) {
      const token& s = t[k];
      if (s.kind == tok_kind::punct && s.lower[0] == '.' && (k + 1 >= t.size() || t[k + 1].space_before)) {
        sentence_end = true;  // "call 555 1234. Then" — a full stop, not a separator
        break;
      }
      sep += s.kind == tok_kind::punct ? s.lower[0] : '-';
      ++k;
    }
    if (sentence_end) break;
    auto next = read_item(t, k, false);
    if (!next) break;
    if (sep.find(',') != std::string::npos && !prev.spoken && !next->spoken) break;  // "1,234" is a number
    if (sep.find('.') != std::string::npos && (prev.spoken || next->spoken)) break;
    seq.items.push_back(std::move(*next));
    seq.seps.push_back(std::move(sep));
  }
  return seq;
}

// ---------------------------------------------------------------------------------------------
// Context: the words around a candidate.

std::vector<std::string_view> words_before(const std::vector<token>& t, std::size_t tok, std::size_t n) {
  std::vector<std::string_view> out;  // nearest first
  for (std::size_t k = tok; k > 0 && out.size() < n; --k) {
    const token& x = t[k - 1];
    if (x.kind == tok_kind::word) out.push_back(x.lower);
    else if (x.kind == tok_kind::punct && (x.lower[0] == '.' || x.lower[0] == '?' || x.lower[0] == '!')) break;
  }
  return out;
}
std::vector<std::string_view> words_after(const std::vector<token>& t, std::size_t tok, std::size_t n) {
  std::vector<std::string_view> out;
  for (std::size_t k = tok; k < t.size() && out.size() < n; ++k) {
    if (t[k].kind == tok_kind::word) out.push_back(t[k].lower);
  }
  return out;
}

bool is_possessive(std::string_view w) {
  return w == "my" || w == "your" || w == "his" || w == "her" || w == "their" || w == "our" || w == "whose";
}

// "phone", "call", "my number"... in the words before (nearest first) or after.
bool phone_cue(const std::vector<std::string_view>& before, const std::vector<std::string_view>& after) {
  static constexpr std::array<std::string_view, 16> k_cues{
      "phone", "telephone", "cell", "cellphone", "mobile", "call", "text", "fax",
      "dial",  "reach",     "whatsapp", "landline", "tel", "ring", "contact", "phones"};
  for (auto w : before)
    if (in(k_cues, w)) return true;
  for (auto w : after)
    if (in(k_cues, w)) return true;
  // "my number is ...": nearest first, so before[i + 1] is the word before before[i].
  for (std::size_t i = 0; i + 1 < before.size(); ++i)
    if (before[i] == "number" && is_possessive(before[i + 1])) return true;
  for (std::size_t i = 0; i + 1 < after.size(); ++i)
    if (after[i + 1] == "number" && is_possessive(after[i])) return true;
  return false;
}

// "order number", "tracking", "room"...: digits that identify a thing, not a person.
bool thing_cue(const std::vector<std::string_view>& before) {
  static constexpr std::array<std::string_view, 24> k_things{
      "order",   "tracking", "confirmation", "reference", "ref",     "invoice", "ticket",  "case",
      "booking", "reservation", "flight",  "room",      "zip",     "postal",  "model",   "serial",
      "item",    "product",  "part",         "transaction", "receipt", "claim", "version", "page"};
  for (std::size_t i = 0; i < before.size() && i < 3; ++i)
    if (in(k_things, before[i])) return true;
  return false;
}

bool has_word(const std::vector<std::string_view>& words, std::string_view w, std::size_t within) {
  for (std::size_t i = 0; i < words.size() && i < within; ++i)
    if (words[i] == w) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Number classification.

bool ssn_parts_valid(std::string_view d) {  // 9 digits
  const std::string_view area = d.substr(0, 3), group = d.substr(3, 2), serial = d.substr(5, 4);
  return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000";
}

struct range_facts {
  std::string digits;
  std::vector<std::size_t> groups;  // digit counts of the items
  bool all_typed = true;
  bool any_typed = false;
  bool counting = true;  // spoken values going up by one ("one two three four ...")
  std::string seps;      // every separator byte inside the range
};

range_facts facts(const digit_seq& s, std::size_t a, std::size_t b) {
  range_facts f;
  for (std::size_t k = a; k < b; ++k) {
    const digit_item& it = s.items[k];
    f.digits += it.digits;
    f.groups.push_back(it.digits.size());
    if (it.spoken) f.all_typed = false;
    else f.any_typed = true;
    if (it.value < 0 || (k > a && it.value != s.items[k - 1].value + 1)) f.counting = false;
    if (k > a) f.seps += s.seps[k];
  }
  if (b - a < 4) f.counting = false;
  return f;
}

bool groups_are(const range_facts& f, std::initializer_list<std::size_t> shape) {
  return f.groups.size() == shape.size() && std::equal(shape.begin(), shape.end(), f.groups.begin());
}

bool date_shaped(const range_facts& f) {
  if (!f.all_typed || f.groups.size() != 3) return false;
  const auto g0 = f.groups[0], g1 = f.groups[1], g2 = f.groups[2];
  return (g0 == 4 && g1 <= 2 && g2 <= 2) || (g0 <= 2 && g1 <= 2 && (g2 == 4 || g2 == 2));
}

bool only_seps(const range_facts& f, std::string_view allowed) {
  return std::all_of(f.seps.begin(), f.seps.end(), [&](char c) { return allowed.find(c) != std::string_view::npos; });
}

std::optional<pii_kind> classify(const std::vector<token>& t, const digit_seq& s, std::size_t a, std::size_t b) {
  const range_facts f = facts(s, a, b);
  const std::string& d = f.digits;
  const std::size_t n = d.size();
  const bool plus = s.plus && a == 0;
  const auto before = words_before(t, a == 0 ? s.lead_tok : s.items[a].tok_begin, 6);
  const auto after = words_after(t, s.items[b - 1].tok_end, 3);

  // Cards: Luhn-valid 13–19 digits from the major networks.
  if (!plus && n >= 13 && n <= 19 && d[0] >= '2' && d[0] <= '6' && luhn_valid(d)) return pii_kind::card;

  // Social security numbers.
  const bool ssn_cue = has_word(before, "ssn", 6) ||
                       (has_word(before, "social", 6) && has_word(before, "security", 6));
  if (!plus && n == 9 && ssn_parts_valid(d)) {
    if (ssn_cue) return pii_kind::ssn;
    if (f.all_typed && groups_are(f, {3, 2, 4}) && (f.seps == "--")) return pii_kind::ssn;
  }

  // Secrets and account numbers named just before.
  if (!plus) {
    const bool security_code = has_word(before, "security", 3) && has_word(before, "code", 3) && !ssn_cue;
    if ((has_word(before, "cvv", 3) || has_word(before, "cvc", 3) || security_code) && n >= 3 && n <= 4)
      return pii_kind::account;
    if (has_word(before, "pin", 3) && n >= 4 && n <= 8) return pii_kind::account;
    static constexpr std::array<std::string_view, 13> k_accounts{
        "account", "acct",    "passport",  "license",  "licence",  "routing", "sort",
        "tax",     "insurance", "medicare", "medicaid", "membership", "ssn"};
    for (std::size_t i = 0; i < before.size() && i < 4; ++i)
      if (in(k_accounts, before[i]) && n >= 6 && n <= 20) return pii_kind::account;
  }

  // Phone numbers.
  if (plus) {
    if (n >= 8 && n <= 15) return pii_kind::phone;
    return std::nullopt;
  }
  if (thing_cue(before) || f.counting) return std::nullopt;
  if (n == 10 || (n == 11 && d[0] == '1')) {
    if (!f.all_typed) return pii_kind::phone;
    if (groups_are(f, {10}) || groups_are(f, {11}) || groups_are(f, {3, 3, 4}) || groups_are(f, {1, 3, 3, 4}) ||
        groups_are(f, {3, 7}) || groups_are(f, {1, 10}))
      return pii_kind::phone;
  }
  if (f.all_typed && groups_are(f, {3, 4}) && (f.seps == "-" || f.seps == ".")) return pii_kind::phone;
  if (f.all_typed && d[0] == '0' && n >= 10 && n <= 11 && f.groups.size() >= 3 &&
      std::all_of(f.groups.begin(), f.groups.end(), [](std::size_t g) { return g >= 2 && g <= 4; }) &&
      only_seps(f, " -."))
    return pii_kind::phone;  // national formats: "020 7946 0958", "06 12 34 56 78"
  if (n >= 7 && n <= 15 && !date_shaped(f) && phone_cue(before, after)) return pii_kind::phone;
  return std::nullopt;
}

void scan_numbers(const std::vector<token>& t, std::vector<pii_span>& out) {
  std::size_t i = 0;
  while (i < t.size()) {
    auto seq = read_sequence(t, i);
    if (!seq) {
      ++i;
      continue;
    }
    const auto& items = seq->items;
    std::vector<std::size_t> prefix(items.size() + 1, 0);
    for (std::size_t k = 0; k < items.size(); ++k) prefix[k + 1] = prefix[k] + items[k].digits.size();
    // Leftmost-longest: the first item that starts a PII number, and the longest such number.
    std::size_t a = 0;
    while (a < items.size()) {
      bool found = false;
      for (std::size_t b = items.size(); b > a; --b) {
        const std::size_t n = prefix[b] - prefix[a];
        if (n < 3 || n > 20) continue;
        if (auto kind = classify(t, *seq, a, b)) {
          std::size_t begin_tok = a == 0 ? seq->lead_tok : items[a].tok_begin;
          if (a > 0 && seq->seps[a].find('(') != std::string::npos && is_punct(t, begin_tok - 1, '(')) --begin_tok;
          std::size_t end_tok = items[b - 1].tok_end;
          // Close a parenthesis opened inside the span: "(555)".
          if (is_punct(t, end_tok, ')') && !t[end_tok].space_before) {
            bool open = false;
            for (std::size_t k = begin_tok; k < end_tok; ++k) {
              if (is_punct(t, k, '(')) open = true;
              if (is_punct(t, k, ')')) open = false;
            }
            if (open) ++end_tok;
          }
          out.push_back({*kind, t[begin_tok].begin, t[end_tok - 1].end});
          a = b;
          found = true;
          break;
        }
      }
      if (!found) ++a;
    }
    i = std::max(i + 1, items.back().tok_end);
  }
}

// ---------------------------------------------------------------------------------------------
// E-mail addresses.

bool is_local_char(char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool is_domain_char(char c) { return is_ascii_alnum(c) || c == '.' || c == '-'; }

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

bool is_tld(std::string_view w) {
  static constexpr std::array<std::string_view, 44> k{
      "com", "org", "net", "edu", "gov", "mil",  "io",  "co",   "uk",  "us",   "ca",  "de",    "fr",    "es",   "it",
      "nl",  "be",  "ch",  "at",  "se",  "no",   "dk",  "fi",   "pl",  "ie",   "au",  "nz",    "jp",    "cn",   "in",
      "br",  "mx",  "ru",  "info", "biz", "me",  "tv",  "ai",   "app", "dev",  "xyz", "email", "online", "eu"};
  return in(k, w);
}

bool is_connector(const token& k) {
  if (k.kind == tok_kind::punct) return k.lower[0] == '.' || k.lower[0] == '_' || k.lower[0] == '-';
  return k.kind == tok_kind::word &&
         (k.lower == "dot" || k.lower == "underscore" || k.lower == "dash" || k.lower == "hyphen");
}
bool is_label(const token& k) { return k.kind == tok_kind::word || k.kind == tok_kind::number; }
bool is_digit_label(const token& k) { return k.kind == tok_kind::number || ones_value(k.lower) >= 0; }

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

// ---------------------------------------------------------------------------------------------
// IBANs.

struct iban_country {
  std::string_view code;
  std::size_t length;
};
constexpr std::array<iban_country, 76> k_iban_countries{{
    {"ad", 24}, {"ae", 23}, {"al", 28}, {"at", 20}, {"az", 28}, {"ba", 20}, {"be", 16}, {"bg", 22}, {"bh", 22},
    {"br", 29}, {"by", 28}, {"ch", 21}, {"cr", 22}, {"cy", 28}, {"cz", 24}, {"de", 22}, {"dk", 18}, {"do", 28},
    {"ee", 20}, {"eg", 29}, {"es", 24}, {"fi", 18}, {"fo", 18}, {"fr", 27}, {"gb", 22}, {"ge", 22}, {"gi", 23},
    {"gl", 18}, {"gr", 27}, {"gt", 28}, {"hr", 21}, {"hu", 28}, {"ie", 22}, {"il", 23}, {"iq", 23}, {"is", 26},
    {"it", 27}, {"jo", 30}, {"kw", 30}, {"kz", 20}, {"lb", 28}, {"lc", 32}, {"li", 21}, {"lt", 20}, {"lu", 20},
    {"lv", 21}, {"mc", 27}, {"md", 24}, {"me", 22}, {"mk", 19}, {"mr", 27}, {"mt", 31}, {"mu", 30}, {"nl", 18},
    {"no", 15}, {"pk", 24}, {"pl", 28}, {"ps", 29}, {"pt", 25}, {"qa", 29}, {"ro", 24}, {"rs", 22}, {"sa", 24},
    {"sc", 31}, {"se", 24}, {"si", 19}, {"sk", 24}, {"sm", 27}, {"st", 25}, {"sv", 28}, {"tl", 23}, {"tn", 24},
    {"tr", 26}, {"ua", 29}, {"va", 22}, {"vg", 24},
}};

std::size_t iban_length(std::string_view country) {
  for (const auto& c : k_iban_countries)
    if (c.code == country) return c.length;
  return 0;
}

// The IBAN characters a token contributes ("" when it cannot be part of one).
std::string iban_chars(const token& k) {
  if (k.kind == tok_kind::number) return k.lower;
  if (k.kind != tok_kind::word) return {};
  if (const int v = ones_value(k.lower); v >= 0 && k.lower != "o") return std::string(1, static_cast<char>('0' + v));
  if (!std::all_of(k.lower.begin(), k.lower.end(), is_ascii_alnum) || k.lower.size() > 34) return {};
  return k.lower;
}

void scan_ibans(const std::vector<token>& t, std::vector<pii_span>& out) {
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i].kind != tok_kind::word) continue;
    std::string acc;
    std::size_t need = 0;
    for (std::size_t k = i; k < t.size(); ++k) {
      const std::string c = iban_chars(t[k]);
      if (c.empty()) break;
      acc += c;
      if (need == 0 && acc.size() >= 2) {
        need = iban_length(acc.substr(0, 2));
        if (need == 0) break;
      }
      if (need != 0 && acc.size() >= 4 && !(is_ascii_digit(acc[2]) && is_ascii_digit(acc[3]))) break;
      if (need != 0 && acc.size() >= need) {
        if (acc.size() == need && iban_valid(acc)) {
          out.push_back({pii_kind::iban, t[i].begin, t[k].end});
          i = k;
        }
        break;
      }
    }
  }
}

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
// 3 best place" are not addresses.
bool not_a_street_name(std::string_view w) {
  static constexpr std::array<std::string_view, 92> k{
      "the",     "a",      "an",      "and",     "or",      "of",     "to",      "in",      "on",       "at",
      "for",     "from",   "with",    "by",      "up",      "down",   "into",    "over",    "off",      "out",
      "is",      "are",    "was",     "be",      "it",      "this",   "that",    "my",      "your",     "our",
      "their",   "his",    "her",     "i",       "you",     "we",     "they",    "me",      "him",      "them",
      "minute",  "minutes", "hour",   "hours",   "second",  "seconds", "day",    "days",    "week",     "weeks",
      "month",   "months", "year",    "years",   "mile",    "miles",  "block",   "blocks",  "kilometer", "kilometers",
      "km",      "foot",   "feet",    "step",    "steps",   "time",   "times",   "percent", "dollar",   "dollars",
      "item",    "items",  "people",  "person",  "best",    "first",  "last",    "next",    "other",    "different",
      "same",    "only",   "whole",   "good",    "more",    "less",   "few",     "many",    "extra",    "lane",
      "car",     "cars"};
  return in(k, w) || is_street_suffix(w) || is_number_word(w);
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

// ---------------------------------------------------------------------------------------------
// Dates of birth.

int month_of(std::string_view w) {
  static constexpr std::array<std::string_view, 12> k_full{"january", "february", "march",     "april",
                                                           "may",     "june",     "july",      "august",
                                                           "september", "october", "november", "december"};
  static constexpr std::array<std::string_view, 12> k_short{"jan", "feb", "mar", "apr", "may", "jun",
                                                            "jul", "aug", "sep", "oct", "nov", "dec"};
  for (std::size_t i = 0; i < 12; ++i)
    if (k_full[i] == w || k_short[i] == w) return static_cast<int>(i + 1);
  if (w == "sept") return 9;
  return 0;
}

int ordinal_ones(std::string_view w) {
  static constexpr std::array<std::string_view, 19> k{"first",     "second",     "third",      "fourth",    "fifth",
                                                      "sixth",     "seventh",    "eighth",     "ninth",     "tenth",
                                                      "eleventh",  "twelfth",    "thirteenth", "fourteenth", "fifteenth",
                                                      "sixteenth", "seventeenth", "eighteenth", "nineteenth"};
  for (std::size_t i = 0; i < k.size(); ++i)
    if (k[i] == w) return static_cast<int>(i + 1);
  if (w == "twentieth") return 20;
  if (w == "thirtieth") return 30;
  return 0;
}

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
  if (k.kind != tok_kind::word) return 0;
  if (ordinal_ones(k.lower) > 0) return j + 1;
  if (k.lower == "twenty" || k.lower == "thirty") {
    if (j + 1 < t.size() && ordinal_ones(t[j + 1].lower) > 0 && ordinal_ones(t[j + 1].lower) <= 9) return j + 2;
  }
  if (auto v = read_below_100(t, j, false); v && v->first >= 1 && v->first <= 31) return v->second;
  return 0;
}

// A year at t[j]: "1990", "nineteen ninety", "nineteen eighty five", "two thousand and five",
// "twenty oh five". Returns the end token, 0 when none.
std::size_t read_year(const std::vector<token>& t, std::size_t j) {
  if (j >= t.size()) return 0;
  if (t[j].kind == tok_kind::number) return t[j].lower.size() == 4 ? j + 1 : 0;
  if (is_word(t, j, "two") && is_word(t, j + 1, "thousand")) {
    std::size_t k = j + 2;
    if (is_word(t, k, "and")) ++k;
    if (auto v = read_below_100(t, k, false)) return v->second;
    return j + 2;
  }
  if (!(is_word(t, j, "nineteen") || is_word(t, j, "twenty") || is_word(t, j, "eighteen"))) return 0;
  std::size_t k = j + 1;
  if (is_word(t, k, "oh") || is_word(t, k, "o")) {
    return k + 1 < t.size() && ones_value(t[k + 1].lower) >= 1 ? k + 2 : 0;
  }
  if (auto v = read_below_100(t, k, false); v && v->first >= 10) return v->second;
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
  if (k < t.size() && month_of(t[k].lower) > 0) {
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
  if (m >= t.size() || month_of(t[m].lower) == 0) return 0;
  ++m;
  std::size_t y = is_punct(t, m, ',') ? m + 1 : m;
  const std::size_t ye = read_year(t, y);
  return ye ? ye : m;
}

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

// ---------------------------------------------------------------------------------------------

int priority(pii_kind k) {  // lower wins an overlap
  switch (k) {
    case pii_kind::email: return 0;
    case pii_kind::iban: return 1;
    case pii_kind::card: return 2;
    case pii_kind::ssn: return 3;
    case pii_kind::date_of_birth: return 4;
    case pii_kind::address: return 5;
    case pii_kind::account: return 6;
    case pii_kind::phone: return 7;
  }
  return 8;
}

}  // namespace

std::string_view to_string(pii_kind kind) {
  switch (kind) {
    case pii_kind::phone: return "phone";
    case pii_kind::email: return "email";
    case pii_kind::card: return "card";
    case pii_kind::iban: return "iban";
    case pii_kind::ssn: return "ssn";
    case pii_kind::account: return "account";
    case pii_kind::address: return "address";
    case pii_kind::date_of_birth: return "dob";
  }
  return "pii";
}

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool twice = false;
  for (std::size_t i = digits.size(); i > 0; --i) {
    const char c = digits[i - 1];
    if (!is_ascii_digit(c)) return false;
    int d = c - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool iban_valid(std::string_view iban) {
  if (iban.size() < 15 || iban.size() > 34) return false;
  std::string country{lower_ascii(iban[0]), lower_ascii(iban[1])};
  if (iban_length(country) != iban.size()) return false;
  if (!is_ascii_digit(iban[2]) || !is_ascii_digit(iban[3])) return false;
  int rem = 0;
  for (std::size_t i = 0; i < iban.size(); ++i) {
    const char c = iban[(i + 4) % iban.size()];
    if (is_ascii_digit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (is_ascii_alpha(c)) {
      const int v = lower_ascii(c) - 'a' + 10;
      rem = (rem * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return rem == 1;
}

std::vector<pii_span> find_pii(std::string_view text) {
  const std::vector<token> t = tokenize(text);
  std::vector<pii_span> found;
  scan_typed_emails(text, found);
  scan_spoken_emails(t, found);
  scan_ibans(t, found);
  scan_numbers(t, found);
  scan_addresses(t, found);
  scan_dates_of_birth(t, found);

  // Resolve overlaps: by priority, then the longer span, then the earlier one.
  std::stable_sort(found.begin(), found.end(), [](const pii_span& a, const pii_span& b) {
    if (priority(a.kind) != priority(b.kind)) return priority(a.kind) < priority(b.kind);
    if (a.end - a.begin != b.end - b.begin) return a.end - a.begin > b.end - b.begin;
    return a.begin < b.begin;
  });
  std::vector<pii_span> kept;
  for (const pii_span& s : found) {
    if (s.begin >= s.end || s.end > text.size()) continue;
    const bool overlaps = std::any_of(kept.begin(), kept.end(),
                                      [&](const pii_span& k) { return s.begin < k.end && k.begin < s.end; });
    if (!overlaps) kept.push_back(s);
  }
  std::sort(kept.begin(), kept.end(), [](const pii_span& a, const pii_span& b) { return a.begin < b.begin; });
  return kept;
}

bool contains_pii(std::string_view text) { return !find_pii(text).empty(); }

std::string redact_pii(std::string_view text, std::span<const pii_span> spans) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const pii_span& s : spans) {
    if (s.begin < pos || s.begin >= s.end || s.end > text.size()) continue;
    out.append(text.substr(pos, s.begin - pos));
    out += '[';
    out += to_string(s.kind);
    out += ']';
    pos = s.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string redact_pii(std::string_view text) {
  const auto spans = find_pii(text);
  return redact_pii(text, spans);
}

}  // namespace parley::text
