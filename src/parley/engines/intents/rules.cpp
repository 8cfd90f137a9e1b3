#include "parley/engines/intents/rules.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "parley/engines/intents/spoken_numbers.hpp"
#include "parley/engines/intents/units.hpp"
#include "parley/engines/intents/words.hpp"
#include "parley/text/spoken.hpp"

namespace parley::intents::detail {

// --- utterance, evidence ------------------------------------------------------------------------

utterance::utterance(std::string_view text) : w_(to_words(text)) {}

bool utterance::has(std::string_view w) const { return std::find(w_.begin(), w_.end(), w) != w_.end(); }

bool utterance::has_any(std::initializer_list<std::string_view> ws) const {
  return std::any_of(ws.begin(), ws.end(), [&](std::string_view w) { return has(w); });
}

std::optional<std::size_t> utterance::find(std::string_view w, std::size_t from) const {
  for (std::size_t i = from; i < w_.size(); ++i) {
    if (w_[i] == w) return i;
  }
  return std::nullopt;
}

std::optional<std::size_t> utterance::find_phrase(std::initializer_list<std::string_view> phrase,
                                                  std::size_t from) const {
  const std::size_t n = phrase.size();
  if (n == 0 || w_.size() < n) return std::nullopt;
  for (std::size_t i = from; i + n <= w_.size(); ++i) {
    std::size_t k = 0;
    for (std::string_view p : phrase) {
      if (w_[i + k] != p) break;
      ++k;
    }
    if (k == n) return i;
  }
  return std::nullopt;
}

bool is_filler(std::string_view w) {
  static const std::unordered_set<std::string_view> fillers = {
      "hey",  "hi",    "hello", "ok",   "okay", "please", "so",     "well",   "just", "can",   "could",
      "would", "will", "you",   "tell", "me",   "i",      "want",   "to",     "know", "like",  "let",
      "us",   "do",    "mind",  "kindly", "sorry", "excuse", "oh",  "quick",  "quickly", "assistant",
      "actually", "again", "wondering", "wonder", "need",
  };
  return text::is_hesitation(w) || fillers.contains(w);
}

void evidence::mark_words(std::initializer_list<std::string_view> vocabulary) {
  const auto& w = u_->words();
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (std::find(vocabulary.begin(), vocabulary.end(), w[i]) != vocabulary.end()) used_[i] = 1;
  }
}

double evidence::confidence(double base) const {
  const auto& w = u_->words();
  double content = 0, content_used = 0, function = 0, function_used = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const bool explained = used_[i] || is_filler(w[i]);
    if (is_function_word(w[i])) {
      function += 1;
      function_used += explained ? 1 : 0;
    } else {
      content += 1;
      content_used += explained ? 1 : 0;
    }
  }
  const double c_content = content > 0 ? content_used / content : 1.0;
  const double c_function = function > 0 ? function_used / function : 1.0;
  return base * c_content * (0.75 + 0.25 * c_function);
}

std::size_t evidence::n_unexplained_content() const {
  const auto& w = u_->words();
  std::size_t n = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (!used_[i] && !is_filler(w[i]) && !is_function_word(w[i])) ++n;
  }
  return n;
}

std::string capitalise(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// --- durations ----------------------------------------------------------------------------------
namespace {

struct duration_part {
  double seconds = 0.0;
  std::size_t end = 0;
  double unit_seconds = 0.0;
};

std::optional<unit_span> time_unit_at(const utterance& u, std::size_t i) {
  auto span = parse_unit_at(u.words(), i);
  if (!span || span->unit->dim != dimension::time) return std::nullopt;
  return span;
}

std::optional<duration_part> part_at(const utterance& u, std::size_t i) {
  const auto& w = u.words();
  if (i >= w.size()) return std::nullopt;
  // "half an hour", "half a minute"
  if (u.at(i) == "half" && (u.at(i + 1) == "a" || u.at(i + 1) == "an")) {
    if (auto unit = time_unit_at(u, i + 2)) return duration_part{0.5 * unit->unit->scale, unit->end, unit->unit->scale};
  }
  double qty = 0.0;
  std::size_t j = i;
  if (u.at(i) == "quarter") {
    qty = 0.25;
    j = i + 1;
  } else if ((u.at(i) == "a" || u.at(i) == "an") && time_unit_at(u, i + 1)) {
    qty = 1.0;
    j = i + 1;
  } else if (auto n = parse_number_at(w, i)) {
    qty = n->value;
    j = n->end;
  } else {
    return std::nullopt;
  }
  if (qty < 0.0) return std::nullopt;
  if (u.at(j) == "of" && qty < 1.0) {  // "a quarter of an hour"
    j += (u.at(j + 1) == "a" || u.at(j + 1) == "an") ? 2 : 1;
  }
  auto unit = time_unit_at(u, j);
  if (!unit) return std::nullopt;
  duration_part p{qty * unit->unit->scale, unit->end, unit->unit->scale};
  // "an hour and a half", "a minute and a quarter"
  if (u.at(p.end) == "and" && (u.at(p.end + 1) == "a" || u.at(p.end + 1) == "an")) {
    if (u.at(p.end + 2) == "half") {
      p.seconds += 0.5 * p.unit_seconds;
      p.end += 3;
    } else if (u.at(p.end + 2) == "quarter") {
      p.seconds += 0.25 * p.unit_seconds;
      p.end += 3;
    }
  }
  return p;
}

}  // namespace

std::optional<duration_parse> parse_duration(const utterance& u, std::size_t from) {
  for (std::size_t i = from; i < u.size(); ++i) {
    auto first = part_at(u, i);
    if (!first) continue;
    duration_parse r;
    r.used.assign(u.size(), 0);
    r.begin = i;
    r.seconds = first->seconds;
    std::size_t end = first->end;
    double last_unit = first->unit_seconds;
    while (end < u.size()) {
      const std::size_t k = u.at(end) == "and" ? end + 1 : end;
      if (auto next = part_at(u, k)) {
        r.seconds += next->seconds;
        end = next->end;
        last_unit = next->unit_seconds;
        continue;
      }
      // "one hour thirty": a bare number after hours means minutes, after minutes seconds.
      if (last_unit == 3600.0 || last_unit == 60.0) {
        if (auto n = parse_number_at(u.words(), k); n && n->value >= 1.0 && n->value < 60.0) {
          r.seconds += n->value * last_unit / 60.0;
          end = n->end;
        }
      }
      break;
    }
    r.end = end;
    for (std::size_t x = r.begin; x < r.end; ++x) r.used[x] = 1;
    return r;
  }
  return std::nullopt;
}

namespace {

std::vector<std::pair<long long, std::string_view>> split_duration(std::chrono::seconds d) {
  const long long s = std::max<long long>(0, d.count());
  std::vector<std::pair<long long, std::string_view>> parts;
  if (s / 3600 > 0) parts.emplace_back(s / 3600, "hour");
  if ((s % 3600) / 60 > 0) parts.emplace_back((s % 3600) / 60, "minute");
  if (s % 60 > 0 || parts.empty()) parts.emplace_back(s % 60, "second");
  return parts;
}

std::string join_and(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

std::string describe_duration(std::chrono::seconds d) {
  std::vector<std::string> items;
  for (const auto& [n, unit] : split_duration(d)) {
    items.push_back(format_number(static_cast<double>(n)) + " " + std::string(unit) + (n == 1 ? "" : "s"));
  }
  return join_and(items);
}

std::string describe_duration_adjective(std::chrono::seconds d) {
  std::string out;
  for (const auto& [n, unit] : split_duration(d)) {
    if (!out.empty()) out += ' ';
    out += format_number(static_cast<double>(n)) + " " + std::string(unit);
  }
  return out;
}

std::string describe_time_left(std::chrono::milliseconds left) {
  if (left.count() <= 0) return "less than a second";
  long long s = (left.count() + 999) / 1000;
  if (s >= 3600) s = (s + 30) / 60 * 60;  // beyond an hour, to the minute
  return describe_duration(std::chrono::seconds(s));
}

// --- arithmetic ---------------------------------------------------------------------------------
namespace {

class math_parser {
 public:
  explicit math_parser(const utterance& u) : u_(u) {}

  std::optional<math_result> run() {
    std::optional<math_result> partial;
    for (std::size_t start = 0; start < u_.size(); ++start) {
      reset();
      std::size_t i = start;
      std::optional<node> n = verb_form(i);
      if (!n && !missing_) {
        reset();
        i = start;
        if (!starts_operand(start)) continue;
        n = expr(i);
      }
      if (n && n_ops_ > 0 && !missing_) {
        math_result r;
        r.complete = true;
        r.expression = n->spoken;
        r.value = n->v;
        r.problem = problem_;
        r.used.assign(u_.size(), 0);
        for (std::size_t x = start; x < i; ++x) r.used[x] = 1;
        return r;
      }
      if (missing_ && saw_number_ && !partial) {
        math_result r;
        r.complete = false;
        r.used.assign(u_.size(), 0);
        for (std::size_t x = start; x < std::max(i, furthest_); ++x) r.used[x] = 1;
        partial = r;
      }
    }
    return partial;
  }

 private:
  struct node {
    double v = 0.0;
    std::string spoken;
    bool fractional = false;  // a percentage or fraction: "of" after it multiplies
  };

  void reset() {
    n_ops_ = 0;
    missing_ = false;
    saw_number_ = false;
    problem_.clear();
    furthest_ = 0;
  }

  bool starts_operand(std::size_t i) const {
    if (parse_number_at(u_.words(), i)) return true;
    return prefix_len(i) > 0;
  }

  /// Consumes a phrase at i if it is there.
  bool take(std::size_t& i, std::initializer_list<std::string_view> phrase) const {
    if (u_.find_phrase(phrase, i) == i) {
      i += phrase.size();
      return true;
    }
    return false;
  }

  std::size_t prefix_len(std::size_t i) const {
    for (auto p : {std::initializer_list<std::string_view>{"the", "square", "root", "of"},
                   std::initializer_list<std::string_view>{"square", "root", "of"},
                   std::initializer_list<std::string_view>{"the", "cube", "root", "of"},
                   std::initializer_list<std::string_view>{"cube", "root", "of"},
                   std::initializer_list<std::string_view>{"square", "root"}}) {
      if (u_.find_phrase(p, i) == i) return p.size();
    }
    return 0;
  }

  std::string fmt(double v) const { return format_number(v, 6); }

  std::optional<node> verb_form(std::size_t& i) {
    const std::size_t start = i;
    enum class verb { add, subtract, multiply, divide, sum, product, difference, average };
    verb kind{};
    if (take(i, {"add"})) kind = verb::add;
    else if (take(i, {"subtract"})) kind = verb::subtract;
    else if (take(i, {"multiply"})) kind = verb::multiply;
    else if (take(i, {"divide"})) kind = verb::divide;
    else if (take(i, {"the", "sum", "of"}) || take(i, {"sum", "of"})) kind = verb::sum;
    else if (take(i, {"the", "product", "of"}) || take(i, {"product", "of"})) kind = verb::product;
    else if (take(i, {"the", "difference", "between"}) || take(i, {"difference", "between"})) kind = verb::difference;
    else if (take(i, {"the", "average", "of"}) || take(i, {"average", "of"})) kind = verb::average;
    else return std::nullopt;
    if (!starts_operand(i)) {
      i = start;
      return std::nullopt;
    }
    auto a = expr(i);
    if (!a) return std::nullopt;
    bool joined = false;
    switch (kind) {
      case verb::add: joined = take(i, {"and"}) || take(i, {"to"}) || take(i, {"plus"}) || take(i, {"with"}); break;
      case verb::subtract: joined = take(i, {"from"}); break;
      case verb::multiply:
        joined = take(i, {"by"}) || take(i, {"and"}) || take(i, {"times"}) || take(i, {"with"});
        break;
      case verb::divide: joined = take(i, {"by"}); break;
      default: joined = take(i, {"and"}); break;
    }
    furthest_ = i;
    if (!joined) {
      missing_ = true;
      return std::nullopt;
    }
    auto b = expr(i);
    if (!b) {
      missing_ = true;
      return std::nullopt;
    }
    ++n_ops_;
    switch (kind) {
      case verb::add:
      case verb::sum: return node{a->v + b->v, a->spoken + " plus " + b->spoken};
      case verb::subtract: return node{b->v - a->v, b->spoken + " minus " + a->spoken};
      case verb::difference: return node{a->v - b->v, a->spoken + " minus " + b->spoken};
      case verb::multiply:
      case verb::product: return node{a->v * b->v, a->spoken + " times " + b->spoken};
      case verb::divide: return divide(*a, *b);
      case verb::average:
        return node{(a->v + b->v) / 2.0, "the average of " + a->spoken + " and " + b->spoken};
    }
    return std::nullopt;
  }

  node divide(const node& a, const node& b) {
    if (b.v == 0.0) problem_ = "You can't divide by zero.";
    return node{b.v == 0.0 ? 0.0 : a.v / b.v, a.spoken + " divided by " + b.spoken};
  }

  std::optional<node> expr(std::size_t& i) {
    auto left = term(i);
    if (!left) return std::nullopt;
    while (true) {
      const std::size_t save = i;
      int op = 0;
      if (take(i, {"plus"}) || take(i, {"added", "to"})) op = '+';
      else if (take(i, {"minus"}) || take(i, {"take", "away"}) || take(i, {"less"})) op = '-';
      else break;
      furthest_ = std::max(furthest_, i);
      auto right = term(i);
      if (!right) {
        missing_ = true;
        i = save;
        break;
      }
      ++n_ops_;
      left = op == '+' ? node{left->v + right->v, left->spoken + " plus " + right->spoken}
                       : node{left->v - right->v, left->spoken + " minus " + right->spoken};
    }
    return left;
  }

  std::optional<node> term(std::size_t& i) {
    auto left = power(i);
    if (!left) return std::nullopt;
    while (true) {
      const std::size_t save = i;
      int op = 0;
      if (take(i, {"times"}) || take(i, {"multiplied", "by"}) || take(i, {"x"})) op = '*';
      else if (take(i, {"divided", "by"}) || take(i, {"over"})) op = '/';
      else if (take(i, {"modulo"}) || take(i, {"mod"})) op = '%';
      else if (left->fractional && take(i, {"of"})) op = 'o';
      else break;
      furthest_ = std::max(furthest_, i);
      auto right = power(i);
      if (!right) {
        missing_ = true;
        i = save;
        break;
      }
      ++n_ops_;
      if (op == '*') {
        left = node{left->v * right->v, left->spoken + " times " + right->spoken};
      } else if (op == '/') {
        left = divide(*left, *right);
      } else if (op == '%') {
        if (right->v == 0.0) problem_ = "You can't divide by zero.";
        left = node{right->v == 0.0 ? 0.0 : std::fmod(left->v, right->v), left->spoken + " modulo " + right->spoken};
      } else {
        left = node{left->v * right->v, left->spoken + " of " + right->spoken};
      }
    }
    return left;
  }

  std::optional<node> power(std::size_t& i) {
    auto base = unary(i);
    if (!base) return std::nullopt;
    const std::size_t save = i;
    if (take(i, {"to", "the", "power", "of"}) || take(i, {"raised", "to", "the", "power", "of"}) ||
        take(i, {"raised", "to"}) || take(i, {"to", "the", "power"})) {
      furthest_ = std::max(furthest_, i);
      auto exponent = power(i);
      if (!exponent) {
        missing_ = true;
        i = save;
        return base;
      }
      ++n_ops_;
      return node{std::pow(base->v, exponent->v), base->spoken + " to the power of " + exponent->spoken};
    }
    return base;
  }

  std::optional<node> unary(std::size_t& i) {
    if (const std::size_t n = prefix_len(i); n > 0) {
      const bool cube = u_.at(i) == "cube" || u_.at(i + 1) == "cube";
      i += n;
      furthest_ = std::max(furthest_, i);
      auto x = unary(i);
      if (!x) {
        missing_ = true;
        return std::nullopt;
      }
      ++n_ops_;
      if (!cube && x->v < 0.0) problem_ = "The square root of a negative number isn't a real number.";
      const double v = cube ? std::cbrt(x->v) : std::sqrt(std::max(0.0, x->v));
      return node{v, std::string(cube ? "the cube root of " : "the square root of ") + x->spoken};
    }
    auto n = parse_number_at(u_.words(), i);
    if (!n) return std::nullopt;
    saw_number_ = true;
    i = n->end;
    node x{n->value, fmt(n->value), n->value != std::floor(n->value)};
    if (x.fractional) {  // say thirds as they were said: "a third", "two thirds"
      bool spoken_fraction = false;  // thirds have no short decimal form
      for (std::size_t k = n->begin; k < n->end; ++k) spoken_fraction = spoken_fraction || u_.at(k).starts_with("third");
      if (spoken_fraction) {
        x.spoken.clear();
        for (std::size_t k = n->begin; k < n->end; ++k) x.spoken += (k > n->begin ? " " : "") + std::string(u_.at(k));
      }
    }
    while (true) {
      if (take(i, {"squared"})) {
        x = node{x.v * x.v, x.spoken + " squared"};
      } else if (take(i, {"cubed"})) {
        x = node{x.v * x.v * x.v, x.spoken + " cubed"};
      } else if (take(i, {"percent"}) || take(i, {"per", "cent"})) {
        x = node{x.v / 100.0, x.spoken + " percent", true};
        continue;  // not an operation by itself: "20 percent of 80" counts "of"
      } else {
        break;
      }
      ++n_ops_;
    }
    furthest_ = std::max(furthest_, i);
    return x;
  }

  const utterance& u_;
  int n_ops_ = 0;
  bool missing_ = false;
  bool saw_number_ = false;
  std::string problem_;
  std::size_t furthest_ = 0;
};

}  // namespace

std::optional<math_result> parse_arithmetic(const utterance& u) { return math_parser(u).run(); }

// --- unit conversion ----------------------------------------------------------------------------
namespace {

struct mention {
  const unit_def* unit = nullptr;
  std::size_t begin = 0;  // of the quantity when there is one, else of the unit
  std::size_t end = 0;
  std::optional<double> qty;
  bool article = false;   // the quantity is "a"/"an"/"one"/"per"
  bool how_many = false;  // "how many <unit>"
};

std::string_view article_for(const unit_def& u) {
  const char c = u.singular.empty() ? 'x' : u.singular.front();
  const bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || u.singular == "hour";
  return vowel ? "an" : "a";
}

}  // namespace

std::optional<conversion_result> parse_conversion(const utterance& u) {
  const auto& w = u.words();
  std::vector<mention> mentions;
  std::size_t floor_at = 0;  // a quantity never reaches back into the previous mention
  for (std::size_t i = 0; i < w.size();) {
    auto span = parse_unit_at(w, i);
    if (!span) {
      ++i;
      continue;
    }
    mention m;
    m.unit = span->unit;
    m.begin = span->begin;
    m.end = span->end;
    // The longest number that ends right before the unit.
    for (std::size_t j = std::max(floor_at, span->begin >= 8 ? span->begin - 8 : std::size_t{0}); j < span->begin; ++j) {
      if (auto n = parse_number_at(w, j); n && n->end == span->begin) {
        m.qty = n->value;
        m.begin = j;
        break;
      }
    }
    if (!m.qty && span->begin > floor_at) {
      const std::string_view before = u.at(span->begin - 1);
      if (before == "a" || before == "an" || before == "one" || before == "per") {
        m.qty = 1.0;
        m.article = true;
        m.begin = span->begin - 1;
      }
    }
    if (m.qty && u.at(m.end) == "and" && (u.at(m.end + 1) == "a" || u.at(m.end + 1) == "an") &&
        u.at(m.end + 2) == "half") {
      *m.qty += 0.5;
      m.article = false;
      m.end += 3;
    }
    if (span->begin >= 2 && u.at(span->begin - 2) == "how" &&
        (u.at(span->begin - 1) == "many" || u.at(span->begin - 1) == "much")) {
      m.how_many = true;
      m.qty.reset();
      m.begin = span->begin - 2;
    }
    mentions.push_back(m);
    floor_at = m.end;
    i = m.end;
  }
  const mention* target = nullptr;
  const mention* source = nullptr;
  std::size_t n_targets = 0;
  for (const auto& m : mentions) {
    if (m.how_many || !m.qty) {
      if (!target || m.how_many) target = &m;
      ++n_targets;
    } else if (!source) {
      source = &m;
    }
  }
  if (!target || !source || n_targets != 1) return std::nullopt;

  conversion_result r;
  r.used.assign(w.size(), 0);
  for (const mention* m : {target, source}) {
    for (std::size_t x = m->begin; x < m->end; ++x) r.used[x] = 1;
  }
  const unit_def* from = source->unit;
  const unit_def* to = target->unit;
  if (from->vague && to->vague) return std::nullopt;
  // "ounces" next to a volume are fluid ounces ("how many ounces are in a cup").
  const unit_def* fluid_ounce = find_unit("fluid ounce");
  if (from->singular == "ounce" && to->dim == dimension::volume) from = fluid_ounce;
  if (to->singular == "ounce" && from->dim == dimension::volume) to = fluid_ounce;
  if (from->dim != to->dim) {
    r.convertible = false;
    r.reply = "I can't convert " + std::string(from->plural) + " to " + std::string(to->plural) + ": one is a " +
              std::string(to_string(from->dim)) + " and the other a " + std::string(to_string(to->dim)) + ".";
    return r;
  }
  from = &resolve_vague(*from, *to);
  to = &resolve_vague(*to, *from);
  const double qty = *source->qty;
  const double value = convert(qty, *from, *to);
  const int decimals = from->dim == dimension::temperature ? 1 : 2;
  bool rounded = false;
  const std::string shown = format_number(value, decimals, &rounded);
  const std::string about = rounded ? "about " : "";
  const std::string to_name(shown == "1" ? to->singular : to->plural);
  const std::string source_text = source->article
                                      ? std::string(article_for(*from)) + " " + std::string(from->singular)
                                      : format_number(qty, 6) + " " + std::string(unit_name(*from, qty));
  // "There are 1,440 minutes in a day" when asked "how many X in Y"; "10 kilograms is 22.05
  // pounds" otherwise.
  const bool in_form = source->article || (source->begin > 0 && u.at(source->begin - 1) == "in");
  if (target->how_many && in_form) {
    r.reply = std::string(shown == "1" && !rounded ? "There is " : "There are ") + about + shown + " " + to_name +
              " in " + source_text + ".";
  } else {
    r.reply = capitalise(source_text) + " is " + about + shown + " " + to_name + ".";
  }
  return r;
}

}  // namespace parley::intents::detail
