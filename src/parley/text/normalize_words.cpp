// normalize_for_speech, continued: abbreviations, web addresses, symbols and typography.
// The normalizer and its driver: text/detail/normalizer.hpp, normalize.cpp.
#include <algorithm>
#include <vector>

#include "parley/text/detail/normalizer.hpp"

namespace parley::text::detail {
namespace {

enum class abbr_kind {
  plain,        // always expanded
  sentence_end, // expanded; its dot also ends the sentence when a capital follows or the text ends
  doctor_drive, // Dr.
  saint_street, // St.
  before_number // only before a number: No. 5, Jan. 5
};

struct abbreviation {
  std::string_view written, spoken;
  abbr_kind kind;
};

// Matched as a whole token of letters and dots, case-sensitive.
constexpr abbreviation k_abbreviations[] = {
    {"Mr.", "mister", abbr_kind::plain},        {"Mrs.", "missus", abbr_kind::plain},
    {"Ms.", "miz", abbr_kind::plain},           {"Prof.", "professor", abbr_kind::plain},
    {"Dr.", "", abbr_kind::doctor_drive},       {"St.", "", abbr_kind::saint_street},
    {"Mt.", "mount", abbr_kind::plain},         {"Jr.", "junior", abbr_kind::sentence_end},
    {"Sr.", "senior", abbr_kind::sentence_end}, {"Ave.", "avenue", abbr_kind::sentence_end},
    {"Rd.", "road", abbr_kind::sentence_end},   {"Blvd.", "boulevard", abbr_kind::sentence_end},
    {"Inc.", "incorporated", abbr_kind::sentence_end}, {"Ltd.", "limited", abbr_kind::sentence_end},
    {"Co.", "company", abbr_kind::sentence_end},       {"Corp.", "corporation", abbr_kind::sentence_end},
    {"Dept.", "department", abbr_kind::plain},  {"e.g.", "for example", abbr_kind::plain},
    {"E.g.", "for example", abbr_kind::plain},  {"i.e.", "that is", abbr_kind::plain},
    {"I.e.", "that is", abbr_kind::plain},      {"etc.", "et cetera", abbr_kind::sentence_end},
    {"etc", "et cetera", abbr_kind::plain},     {"vs.", "versus", abbr_kind::plain},
    {"vs", "versus", abbr_kind::plain},         {"Vs.", "versus", abbr_kind::plain},
    {"approx.", "approximately", abbr_kind::sentence_end},
    {"Approx.", "approximately", abbr_kind::plain},
    {"No.", "number", abbr_kind::before_number}, {"no.", "number", abbr_kind::before_number},
    {"Nos.", "numbers", abbr_kind::before_number},
};

// A host with no scheme and no "www." is read as one only when it ends in one of these.
bool is_bare_host_tld(std::string_view label) { return is_common_tld(label) || label == "ly"; }

constexpr std::size_t k_max_local_bytes = 64;   // RFC 5321 limits: also keep the scans short
constexpr std::size_t k_max_host_bytes = 253;
constexpr std::size_t k_max_path_bytes = 2048;

bool is_email_local(char c) {
  return is_ascii_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/// Speaks one piece of an address: letters as they are, digits one by one, . - _ named.
std::string spell_address_part(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_ascii_alpha(c)) {
      std::size_t j = i;
      while (j < s.size() && is_ascii_alpha(s[j])) ++j;
      append_word(out, s.substr(i, j - i));
      i = j;
    } else if (is_ascii_digit(c)) {
      std::size_t j = i;
      while (j < s.size() && is_ascii_digit(s[j])) ++j;
      append_word(out, digit_words(s.substr(i, j - i)));
      i = j;
    } else {
      switch (c) {
        case '.': append_word(out, "dot"); break;
        case '-': append_word(out, "dash"); break;
        case '_': append_word(out, "underscore"); break;
        case '+': append_word(out, "plus"); break;
        case '%': append_word(out, "percent"); break;
        case '~': append_word(out, "tilde"); break;
        default: break;
      }
      ++i;
    }
  }
  return out;
}

bool valid_tld(std::string_view label) {
  return label.size() >= 2 && std::ranges::all_of(label, [](char c) { return is_ascii_alpha(c); });
}

}  // namespace

// --- abbreviations -------------------------------------------------------------------------
bool normalizer::try_abbreviation() {
  if (starts(pos_, "w/o") && boundary(pos_ + 3)) {
    say("without");
    pos_ += 3;
    return true;
  }
  if (starts(pos_, "w/") && (at(pos_ + 2) == ' ' || boundary(pos_ + 2)) && !is_ascii_digit(at(pos_ + 2))) {
    say("with");
    pos_ += 2;
    return true;
  }
  std::size_t e = pos_;
  while (is_ascii_alpha(at(e)) || (at(e) == '.' && is_ascii_alpha(at(e + 1)) && e > pos_)) ++e;
  if (at(e) == '.') ++e;
  const std::string_view token = in_.substr(pos_, e - pos_);
  const std::size_t next = skip_blanks(e);
  const bool number_follows = is_ascii_digit(at(next));
  // Months before a day number: "Jan. 5", "Sept 3".
  if (number_follows && next > e) {
    const std::string_view bare = token.ends_with('.') ? token.substr(0, token.size() - 1) : token;
    const unsigned m = month_number(bare);
    if (m != 0 && bare.size() <= 4 && bare.size() < month_name(m).size() && is_ascii_upper(bare[0])) {
      say(month_name(m));
      pos_ = e;
      return true;
    }
  }
  for (const abbreviation& a : k_abbreviations) {
    if (token != a.written) continue;
    std::string_view spoken = a.spoken;
    bool can_end = a.kind == abbr_kind::sentence_end;
    switch (a.kind) {
      case abbr_kind::before_number:
        if (!number_follows) return false;
        break;
      case abbr_kind::doctor_drive:
      case abbr_kind::saint_street: {
        // A capitalised word (not the first of a sentence) or a number before it makes it part of
        // an address: "Main St.", "5th St.", "Mulholland Dr.". Otherwise a title: "St. Louis",
        // "Dr. Smith"; a lone "St." with no name after it is a street.
        const bool next_cap = next > e && is_ascii_upper(at(next));
        std::size_t prev_start = 0;
        const std::string_view prev = token_before(pos_, &prev_start);
        const bool prev_name = !prev.empty() && is_ascii_upper(prev[0]) && !sentence_start(prev_start) &&
                               std::ranges::all_of(prev, [](char ch) { return is_ascii_alpha(ch); });
        const bool prev_number = !prev.empty() && is_ascii_digit(prev[0]);
        const bool place = prev_name || prev_number;
        if (a.kind == abbr_kind::doctor_drive) spoken = place ? "drive" : "doctor";
        else spoken = place || !next_cap ? "street" : "saint";
        can_end = spoken == "street" || spoken == "drive";
        break;
      }
      default:
        break;
    }
    say(spoken);
    pos_ = e;
    if (can_end && token.ends_with('.') && dot_ends_sentence(pos_)) emit_raw(".");
    return true;
  }
  return false;
}

/// Host labels from i: "mail.example.com". Returns the end, or i when there is none.
std::size_t normalizer::host_end(std::size_t i, std::vector<std::string_view>* labels) const {
  std::size_t p = i;
  while (p - i <= k_max_host_bytes) {
    const std::size_t b = p;
    while (is_ascii_alnum(at(p)) || at(p) == '-') ++p;
    if (p == b) return labels->empty() ? i : b - 1;  // a trailing '.' is not part of the host
    labels->push_back(in_.substr(b, p - b));
    if (at(p) == '.' && (is_ascii_alnum(at(p + 1)))) {
      ++p;
      continue;
    }
    return p;
  }
  return i;
}

bool normalizer::try_email() {
  std::size_t p = pos_;
  while (is_email_local(at(p)) && p - pos_ <= k_max_local_bytes) ++p;
  if (p == pos_ || at(p) != '@' || in_[p - 1] == '.') return false;
  std::vector<std::string_view> labels;
  const std::size_t e = host_end(p + 1, &labels);
  if (labels.size() < 2 || !valid_tld(labels.back()) || is_ascii_alnum(at(e))) return false;
  std::string words = spell_address_part(in_.substr(pos_, p - pos_)) + " at";
  for (std::size_t k = 0; k < labels.size(); ++k) {
    if (k) words += " dot";
    append_word(words, spell_address_part(labels[k]));
  }
  say(words);
  pos_ = e;
  return true;
}

bool normalizer::try_url() {
  std::size_t p = pos_;
  bool scheme = false;
  for (const std::string_view s : {"https://", "http://", "ftp://"}) {
    if (starts_ci(p, s)) {
      p += s.size();
      scheme = true;
      break;
    }
  }
  const bool www = starts_ci(p, "www.");
  if (www) p += 4;
  std::vector<std::string_view> labels;
  const std::size_t e = host_end(p, &labels);
  if (labels.size() < (www ? 1u : 2u) || (!www && !valid_tld(labels.back()))) return false;
  if (!scheme && !www) {
    if (!is_bare_host_tld(labels.back())) return false;
    if (at(e) == '@' || is_ascii_alnum(at(e))) return false;
  }
  // Path: up to white space; the query and fragment are consumed but not read out; trailing
  // punctuation belongs to the sentence.
  std::size_t end = e;
  std::size_t path_end = e;
  if (at(e) == '/' || at(e) == ':' || at(e) == '?' || at(e) == '#') {
    while (end < in_.size() && end - e < k_max_path_bytes && !is_space(in_[end]) && in_[end] != '"' && in_[end] != '<' && in_[end] != '>' &&
           static_cast<unsigned char>(in_[end]) < 0x80) {
      ++end;
    }
    while (end > e && std::string_view(".,;:!?)]}'").find(in_[end - 1]) != k_npos) --end;
    path_end = std::min({end, in_.find('?', e), in_.find('#', e)});
  }
  std::string words;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    if (k) words += " dot";
    append_word(words, spell_address_part(labels[k]));
  }
  std::string_view path = in_.substr(e, path_end - e);
  if (path.starts_with(':')) {  // a port
    const std::size_t d = path.find('/');
    append_word(words, "colon " + spell_address_part(path.substr(1, d == k_npos ? k_npos : d - 1)));
    path = d == k_npos ? std::string_view() : path.substr(d);
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  while (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const std::size_t d = path.find('/');
    append_word(words, "slash");
    append_word(words, spell_address_part(path.substr(0, d)));
    path = d == k_npos ? std::string_view() : path.substr(d);
  }
  say(words);
  pos_ = end;
  return true;
}

// --- symbols and typography ----------------------------------------------------------------
bool normalizer::digit_before(std::size_t i) const {
  while (i > 0 && in_[i - 1] == ' ') --i;
  return i > 0 && is_ascii_digit(in_[i - 1]);
}

bool normalizer::spaced(std::size_t i, std::size_t len) const {
  return i > 0 && is_space(in_[i - 1]) && (i + len >= in_.size() || is_space(in_[i + len]));
}

bool normalizer::try_symbol() {
  struct symbol {
    std::string_view written, spoken;
  };
  static constexpr symbol anywhere[] = {
      {"&amp;", "and"},
      {"&", "and"},
      {"@", "at"},
      {"%", "percent"},
      {"\u00D7", "times"},                      // ×
      {"\u00F7", "divided by"},                 // ÷
      {"\u00B1", "plus or minus"},              // ±
      {"\u2248", "approximately"},              // ≈
      {"\u2260", "is not equal to"},            // ≠
      {"\u2264", "is less than or equal to"},   // ≤
      {"\u2265", "is greater than or equal to"},// ≥
      {"\u00B0", "degrees"},                    // ° (not after a number)
  };
  for (const symbol& s : anywhere) {
    if (starts(pos_, s.written)) {
      say(s.spoken);
      pos_ += s.written.size();
      return true;
    }
  }
  const char c = in_[pos_];
  if (c == '+') {
    say("plus");
    ++pos_;
    return true;
  }
  if (c == '=') {
    say("equals");
    while (at(pos_) == '=') ++pos_;
    return true;
  }
  if (c == '#' && is_ascii_digit(at(pos_ + 1))) {
    say("number");
    ++pos_;
    number_ok_at_ = pos_;
    return true;
  }
  if (c == '*' && digit_before(pos_) && digit_after(pos_ + 1)) {
    say("times");
    pos_ = skip_blanks(pos_ + 1);
    number_ok_at_ = pos_;
    return true;
  }
  if (c == '~' && digit_after(pos_ + 1)) {
    say("about");
    pos_ = skip_blanks(pos_ + 1);
    number_ok_at_ = pos_;
    return true;
  }
  if ((c == '<' || c == '>') && (spaced(pos_, 1) || (at(pos_ + 1) == '=' && spaced(pos_, 2)))) {
    const bool or_equal = at(pos_ + 1) == '=';
    say(std::string(c == '<' ? "less than" : "greater than") + (or_equal ? " or equal to" : ""));
    pos_ += or_equal ? 2 : 1;
    return true;
  }
  struct vulgar {
    std::string_view written, alone, after_number;
  };
  static constexpr vulgar fractions[] = {
      {"\u00BD", "one half", "and a half"},          {"\u00BC", "one quarter", "and a quarter"},
      {"\u00BE", "three quarters", "and three quarters"}, {"\u2153", "one third", "and a third"},
      {"\u2154", "two thirds", "and two thirds"},
  };
  for (const vulgar& f : fractions) {
    if (starts(pos_, f.written)) {
      say(pos_ > 0 && is_ascii_digit(in_[pos_ - 1]) ? f.after_number : f.alone);
      pos_ += f.written.size();
      return true;
    }
  }
  return false;
}

bool normalizer::try_typography() {
  struct mapping {
    std::string_view written, plain;
  };
  static constexpr mapping marks[] = {
      {"\u2018", "'"},  {"\u2019", "'"},   {"\u201A", "'"},  {"\u201B", "'"},  {"\u201C", "\""},
      {"\u201D", "\""}, {"\u201E", "\""},  {"\u201F", "\""}, {"\u2026", "..."}, {"\u00A0", " "},
      {"\u2009", " "},  {"\u202F", " "},   {"\u2007", " "},  {"\u200B", ""},   {"\uFEFF", ""},
  };
  for (const mapping& m : marks) {
    if (starts(pos_, m.written)) {
      if (m.plain == " ") {
        if (!out_.empty() && out_.back() != ' ') emit_raw(" ");
      } else {
        for (const char ch : m.plain) {
          if (space_pending_ && is_ascii_alnum(ch)) out_ += ' ';
          space_pending_ = false;
          out_ += ch;
        }
      }
      pos_ += m.written.size();
      return true;
    }
  }
  // A dash between words is a pause: "Paris — the capital" → "Paris, the capital".
  std::size_t len = 0;
  if (starts(pos_, "\u2014") || starts(pos_, "\u2013") || starts(pos_, "\u2015")) len = 3;
  else if (starts(pos_, "--")) len = 2;
  else if (in_[pos_] == '-' && spaced(pos_, 1)) len = 1;
  if (len == 0) return false;
  if (len == 1 && digit_before(pos_) && digit_after(pos_ + 1)) return false;
  trim_trailing_blanks();
  if (!out_.empty() && out_.back() != ',' && out_.back() != '\n') emit_raw(",");
  pos_ += len;
  while (at(pos_) == '-') ++pos_;
  pos_ = skip_blanks(pos_);
  if (!out_.empty() && out_.back() == ',') emit_raw(" ");
  return true;
}

}  // namespace parley::text::detail
