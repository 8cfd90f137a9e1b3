#include "parley/text/pii.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include "parley/text/detail/ascii.hpp"
#include "parley/text/detail/pii_scan.hpp"

namespace parley::text {
namespace detail {
namespace {

bool is_word_byte(char c) { return is_ascii_alnum(c) || static_cast<unsigned char>(c) >= 0x80; }

}  // namespace

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
    for (std::size_t k = i; k < j; ++k) t.lower.push_back(to_ascii_lower(s[k]));
    out.push_back(std::move(t));
    space = false;
    i = j;
  }
  return out;
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

bool has_word(const std::vector<std::string_view>& words, std::string_view w, std::size_t within) {
  for (std::size_t i = 0; i < words.size() && i < within; ++i)
    if (words[i] == w) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// IBANs.

namespace {

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
  if (const auto v = digit_word_value(k.lower); v && k.lower != "o") return std::string(1, static_cast<char>('0' + *v));
  if (!std::all_of(k.lower.begin(), k.lower.end(), is_ascii_alnum) || k.lower.size() > 34) return {};
  return k.lower;
}

}  // namespace

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

}  // namespace detail

namespace {

using namespace detail;

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
  std::string country{to_ascii_lower(iban[0]), to_ascii_lower(iban[1])};
  if (iban_length(country) != iban.size()) return false;
  if (!is_ascii_digit(iban[2]) || !is_ascii_digit(iban[3])) return false;
  int rem = 0;
  for (std::size_t i = 0; i < iban.size(); ++i) {
    const char c = iban[(i + 4) % iban.size()];
    if (is_ascii_digit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else if (is_ascii_alpha(c)) {
      const int v = to_ascii_lower(c) - 'a' + 10;
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
