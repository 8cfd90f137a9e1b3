// find_pii, continued: runs of spoken and typed digits (phone, card, SSN and account numbers).
// The tokens and the other scanners: text/detail/pii_scan.hpp.
#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "parley/text/detail/ascii.hpp"
#include "parley/text/detail/pii_scan.hpp"

namespace parley::text::detail {

// ---------------------------------------------------------------------------------------------
// Spoken and typed digits.

std::optional<number_reading> read_spoken(const std::vector<token>& t, std::size_t i, const number_options& options) {
  if (i >= t.size() || t[i].kind != tok_kind::word || t[i].lower == "a" || t[i].lower == "an") return std::nullopt;
  constexpr std::size_t k_window = 10;  // "ninety - nine hundred and ninety - nine" needs eight
  std::array<std::string_view, k_window> words{};
  const std::size_t n = std::min(k_window, t.size() - i);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t j = i + k;
    if (t[j].kind != tok_kind::punct) {
      words[k] = t[j].lower;
    } else if (t[j].lower[0] == '-' && !t[j].space_before && j + 1 < t.size() && !t[j + 1].space_before) {
      words[k] = "-";
    }
  }
  auto r = read_number(std::span<const std::string_view>(words.data(), n), 0, options);
  if (r) {
    r->begin += i;
    r->end += i;
  }
  return r;
}

bool is_number_word(std::string_view w) {
  if (digit_word_value(w) || w == "double" || w == "triple") return true;
  const auto nw = read_number_word(w);
  return nw && !nw->ordinal &&
         (nw->kind == number_word_kind::teen || nw->kind == number_word_kind::tens ||
          nw->kind == number_word_kind::hundred);
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
    const auto d = read_spoken(t, i + 1, {.range = number_range::tens, .decimals = false, .oh_is_zero = true});
    if (!d || d->value > 9 || d->end != i + 2) return std::nullopt;
    const std::size_t n = k.lower == "double" ? 2 : 3;
    return digit_item{std::string(n, static_cast<char>('0' + static_cast<int>(d->value))), i, i + 2, true, -1};
  }
  // "seven", "forty two", and hundreds read as a whole number: "eight hundred", "one hundred and
  // five", "nineteen hundred". "oh" is a zero only inside a run ("five oh five").
  const auto v = read_spoken(t, i, {.range = number_range::hundreds, .decimals = false, .oh_is_zero = !first});
  if (!v) return std::nullopt;
  const int value = static_cast<int>(v->value);
  return digit_item{std::to_string(value), i, v->end, true, value < 100 ? value : -1};
}

namespace {

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

}  // namespace

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

}  // namespace parley::text::detail
