// parley_turn_end_sim — how often does agent::turn_end_policy cut a turn inside a pause, and how
// long does it wait after the true end of speech? Measured on the turn-taking corpus
// (bench/turns/make_turn_corpus.py), dev and test splits apart.
//
// For every file, the silences are the inserted pauses and the silence after the speech end. The
// policy sees a *transcript timeline* built from the reference text, not a recogniser: the words
// of each spoken half get end times spread over the half in proportion to their letters, and a
// word reaches the partial transcript when the recogniser model says so (--partial-every-ms,
// --asr-lag-ms; both 0: the words before a pause are the partial during it, the full text is the
// partial after the speech end). The local responder (engines/intents with the store FAQ) scores
// each partial: its confidence is the policy's p_complete (--no-responder: none). The VAD is
// perfect: the silences are exactly the inserted ones. The turn ends at the first moment the
// silence reaches the required silence of the partial then current: computed exactly (a session
// arms one timer per partial) and cross-checked by stepping decide() every --frame-ms.
//   half a request  paused utterances whose text before the pause is not a complete request
//                   (every mid-sentence pause, some clause pauses) that end the turn in a pause
//   early reply     the same for a pause after a complete request ("what time is it | in paris")
//   all paused      the two together: the share of paused utterances cut inside a pause
//   endpoint delay  silence waited after the true end of speech, p50/p95 (all files; and the
//                   short complete ones, pause_kind none)
// --sweep searches a grid of thresholds on the dev split only and prints, per preset, the best
// setting under that preset's goal (k_preset_goals), then the frontier. --explain lists the dev
// sentences' partials and decisions. Output: markdown (stdout and --out).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <sys/utsname.h>

#include "parley/agent/turn_end.hpp"
#include "parley/engines/intents/local_responder.hpp"

namespace {

using namespace parley;
using agent::turn_end_config;
using agent::turn_end_policy;
using agent::turn_taking;

constexpr double k_inf = 1e18;
constexpr int k_pause_lengths_ms[] = {300, 500, 700, 900, 1200};

// One stretch of silence and the partial transcripts during it (piecewise constant).
struct silence_piece {
  double from_ms = 0.0;  // silence offset at which this partial becomes current
  std::string text;
  std::optional<double> p_complete;
};
struct silence {
  double length_ms = k_inf;  // a pause's length; k_inf for the silence after the speech end
  std::vector<silence_piece> pieces;
};
struct utterance {
  std::string id, voice, split, pause_kind;
  std::string before_pause;  // "complete" | "incomplete" | "none": the text before the pause
  int pause_ms = 0;
  double max_gap_ms = 0.0;  // longest quiet stretch inside the speech (the synthesiser's own)
  std::vector<silence> pauses;
  silence tail;
};

struct timed_word {
  std::string word;
  double end_ms = 0.0;
};

std::vector<timed_word> timeline(const nlohmann::json& segments) {
  std::vector<timed_word> out;
  for (const auto& s : segments) {
    const std::string text = s.at("text");
    const double start = s.at("start_ms"), end = s.at("end_ms");
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string w; in >> w;) words.push_back(w);
    double letters = 0.0;
    for (const auto& w : words) letters += static_cast<double>(w.size());
    double seen = 0.0;
    for (const auto& w : words) {
      seen += static_cast<double>(w.size());
      out.push_back({w, start + (end - start) * seen / letters});
    }
  }
  return out;
}

class responder_scores {
 public:
  explicit responder_scores(std::shared_ptr<intents::local_responder> r) : r_(std::move(r)) {}
  std::optional<double> operator()(const std::string& text) {
    if (!r_) return std::nullopt;
    if (auto it = cache_.find(text); it != cache_.end()) return it->second;
    const session_id s{++next_session_};
    const double p = r_->answer(text, {s, {}}).confidence;
    r_->forget_session(s);
    return cache_.emplace(text, p).first->second;
  }

 private:
  std::shared_ptr<intents::local_responder> r_;
  std::unordered_map<std::string, double> cache_;
  std::uint64_t next_session_ = 0;
};

// When a word reaches the partial transcript: a recogniser that emits a partial every
// `every_ms` of audio from the stream's start (pocketsphinx: partial_every_ms = 200) includes a
// word in the first partial after its end, `lag_ms` later (decoding). every_ms 0: continuously.
struct asr_model {
  double every_ms = 0.0;
  double lag_ms = 0.0;
  double appears(double word_end_ms, double stream_start_ms) const {
    double t = word_end_ms;
    if (every_ms > 0.0) t = stream_start_ms + std::ceil((word_end_ms - stream_start_ms) / every_ms - 1e-9) * every_ms;
    return t + lag_ms;
  }
};

silence make_silence(const std::vector<timed_word>& words, double stream_start_ms, double t_start, double length_ms,
                     const asr_model& asr, responder_scores& score) {
  const auto partial_at = [&](double t) {
    std::string s;
    for (const auto& w : words)
      if (asr.appears(w.end_ms, stream_start_ms) <= t) s += (s.empty() ? "" : " ") + w.word;
    return s;
  };
  silence out;
  out.length_ms = length_ms;
  std::vector<double> changes = {0.0};
  for (const auto& w : words) {
    const double at = asr.appears(w.end_ms, stream_start_ms) - t_start;
    if (at > 0.0 && at < length_ms) changes.push_back(at);
  }
  std::sort(changes.begin(), changes.end());
  for (double at : changes) {
    std::string text = partial_at(t_start + at);
    if (!out.pieces.empty() && out.pieces.back().text == text) continue;
    auto p = score(text);
    out.pieces.push_back({at, std::move(text), p});
  }
  return out;
}

std::vector<utterance> load(const std::string& path, const asr_model& asr, responder_scores& score) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<utterance> out;
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    try {
      const auto j = nlohmann::json::parse(line);
      utterance u;
      u.id = j.at("id");
      u.voice = j.at("voice");
      u.split = j.at("split");
      u.pause_kind = j.at("pause_kind");
      u.before_pause = j.value("before_pause", u.pause_kind == "none" ? "none" : "incomplete");
      u.pause_ms = j.at("pause_ms");
      u.max_gap_ms = j.value("max_gap_ms", 0.0);
      const auto words = timeline(j.at("segments"));
      const double start = j.at("speech_start_ms");
      for (const auto& p : j.at("pauses_ms")) {
        const double a = p.at(0), b = p.at(1);
        u.pauses.push_back(make_silence(words, start, a, b - a, asr, score));
      }
      u.tail = make_silence(words, start, j.at("speech_end_ms").get<double>(), k_inf, asr, score);
      out.push_back(std::move(u));
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": " + e.what());
    }
  }
  return out;
}

/// Silence at which the turn ends within `s` (exact: one timer per partial), or nullopt. A timer
/// that fires exactly when the speech resumes counts as ending the turn (the endpointer has
/// decided before the first voiced frame arrives); a new partial replaces the old one at once.
std::optional<double> ends_at(const turn_end_policy& policy, const silence& s) {
  for (std::size_t i = 0; i < s.pieces.size(); ++i) {
    const bool last = i + 1 == s.pieces.size();
    const double from = s.pieces[i].from_ms;
    const double until = last ? s.length_ms : s.pieces[i + 1].from_ms;
    const double t = std::max(from, policy.required_silence_ms(s.pieces[i].text, s.pieces[i].p_complete));
    if (t < until || (last && t <= until)) return t;
  }
  return std::nullopt;
}

/// The same by stepping decide() every frame_ms (what a frame-driven session would do).
std::optional<double> ends_at_stepped(const turn_end_policy& policy, const silence& s, double frame_ms,
                                      std::size_t& n_decisions) {
  std::size_t piece = 0;
  for (double t = 0.0; t <= s.length_ms && t < 10000.0; t += frame_ms) {
    while (piece + 1 < s.pieces.size() && s.pieces[piece + 1].from_ms <= t) ++piece;
    ++n_decisions;
    if (policy.decide(s.pieces[piece].text, s.pieces[piece].p_complete, t).ended) return t;
  }
  return std::nullopt;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct scores {
  std::size_t n_paused = 0, n_cut = 0;
  std::map<int, std::pair<std::size_t, std::size_t>> by_pause;          // pause ms → (n, cut)
  // By what came before the pause ("incomplete": a cut answers half a request; "complete": an
  // early reply to a complete request), and by that and the pause length: (n, cut).
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_kind;
  std::map<std::pair<std::string, int>, std::pair<std::size_t, std::size_t>> by_kind_pause;
  std::vector<double> delay_ms, delay_complete_ms;                      // all files; pause_kind none
  double cut_rate() const { return n_paused ? static_cast<double>(n_cut) / static_cast<double>(n_paused) : 0.0; }
  /// Cut-off rate of one kind ("incomplete", "complete") over the pauses up to `pause_ms` long.
  double cut_rate(const std::string& kind, int pause_ms) const {
    std::size_t n = 0, c = 0;
    for (const auto& [kp, nc] : by_kind_pause)
      if (kp.first == kind && kp.second <= pause_ms) n += nc.first, c += nc.second;
    return n ? static_cast<double>(c) / static_cast<double>(n) : 0.0;
  }
  double mean_delay() const {
    double s = 0.0;
    for (double d : delay_ms) s += d;
    return delay_ms.empty() ? 0.0 : s / static_cast<double>(delay_ms.size());
  }
};

scores evaluate(const turn_end_policy& policy, const std::vector<utterance>& corpus, const std::string& split) {
  scores s;
  for (const auto& u : corpus) {
    if (u.split != split) continue;
    if (!u.pauses.empty()) {
      bool cut = false;
      for (const auto& p : u.pauses) cut = cut || ends_at(policy, p).has_value();
      ++s.n_paused;
      s.n_cut += cut;
      auto& bp = s.by_pause[u.pause_ms];
      ++bp.first;
      bp.second += cut;
      auto& bk = s.by_kind[u.before_pause];
      ++bk.first;
      bk.second += cut;
      auto& bkp = s.by_kind_pause[{u.before_pause, u.pause_ms}];
      ++bkp.first;
      bkp.second += cut;
    }
    const double d = ends_at(policy, u.tail).value_or(k_inf);
    s.delay_ms.push_back(d);
    if (u.pause_kind == "none") s.delay_complete_ms.push_back(d);
  }
  return s;
}

std::string fmt(double v, int decimals = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}
std::string pct(std::size_t part, std::size_t whole) {
  return whole ? fmt(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1) + "%" : "-";
}

std::string describe(const turn_end_config& c) {
  return fmt(c.complete_silence_ms) + "/" + fmt(c.default_silence_ms) + "/" + fmt(c.unfinished_silence_ms) +
         " p≥" + (c.p_complete_threshold > 1.0 ? std::string("off") : fmt(c.p_complete_threshold, 2));
}

std::string machine_info() {
  utsname u{};
  uname(&u);
  std::string cpu = "unknown cpu";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return cpu + ", " + std::to_string(std::thread::hardware_concurrency()) + " threads, " + u.sysname + " " +
         u.release;
}

turn_end_config fixed_timer(double ms) {
  return {.complete_silence_ms = ms, .default_silence_ms = ms, .unfinished_silence_ms = ms, .max_silence_ms = ms,
          .p_complete_threshold = 1.0};
}

// What each preset promises, as a constraint on the dev split: of the paused utterances whose
// text before the pause is not a complete request (every mid-sentence pause, and clause pauses
// like "if it rains tomorrow | ..."), at most `max_cut` end the turn in a pause up to `pause_ms`
// long: the assistant must not answer half a request. Early replies (a pause after a complete
// request, "what time is it | in new york") are reported, not constrained: the reply answers a
// real request and the rest becomes the next turn. Among the grid settings that keep the
// constraint, the one with the lowest mean endpoint delay wins.
struct preset_goal {
  turn_taking preset;
  int pause_ms;
  double max_cut;
};
constexpr preset_goal k_preset_goals[] = {
    {turn_taking::quick, 500, 0.10},
    {turn_taking::conversational, 900, 0.10},
    {turn_taking::patient, 1200, 0.05},
};

std::string summary(const turn_end_config& c, const scores& s) {
  return describe(c) + "  cut-offs " + fmt(100 * s.cut_rate(), 1) + "% (half a request " +
         fmt(100 * s.cut_rate("incomplete", 1200), 1) + "%, early reply " + fmt(100 * s.cut_rate("complete", 1200), 1) +
         "%), delay mean " + fmt(s.mean_delay()) + " p50 " + fmt(percentile(s.delay_ms, 50)) + " p95 " +
         fmt(percentile(s.delay_ms, 95));
}

void sweep(const std::vector<utterance>& corpus, std::ostream& out) {
  // No silence threshold may be shorter than the quiet stretches inside speech (a VAD would end
  // the turn between two words): the grid starts above the longest one on dev, in 50 ms steps.
  double dev_gap_ms = 0.0;
  for (const auto& u : corpus)
    if (u.split == "dev") dev_gap_ms = std::max(dev_gap_ms, u.max_gap_ms);
  const double floor_ms = 50.0 * (std::floor(dev_gap_ms / 50.0) + 1.0);
  std::vector<std::pair<turn_end_config, scores>> grid;
  for (double complete = floor_ms; complete <= 400; complete += 50)
    for (double dflt = complete; dflt <= 1000; dflt += 50)
      for (double unfinished = 600; unfinished <= 1600; unfinished += 100)
        if (unfinished >= dflt)
        for (double p : {0.5, 0.6, 0.7, 0.8, 0.9, 1.01}) {
          const turn_end_config c{.complete_silence_ms = complete, .default_silence_ms = dflt,
                                  .unfinished_silence_ms = unfinished, .max_silence_ms = 2000.0,
                                  .p_complete_threshold = p};
          grid.emplace_back(c, evaluate(turn_end_policy(c), corpus, "dev"));
        }
  out << "sweep over " << grid.size()
      << " settings on the dev split (complete/default/unfinished ms, responder threshold); longest gap inside "
         "speech on dev "
      << fmt(dev_gap_ms) << " ms, so no silence below " << fmt(floor_ms) << " ms\n\n";
  for (const auto& g : k_preset_goals) {
    const std::pair<turn_end_config, scores>* best = nullptr;
    for (const auto& e : grid)
      if (e.second.cut_rate("incomplete", g.pause_ms) <= g.max_cut + 1e-9 &&
          (!best || e.second.mean_delay() < best->second.mean_delay() - 1e-9))
        best = &e;
    out << to_string(g.preset) << " (half-request cut-offs <= " << fmt(100 * g.max_cut) << "% up to " << g.pause_ms
        << " ms): " << (best ? summary(best->first, best->second) : std::string("no setting meets it")) << "\n";
  }
  // The frontier: for each half-request cut-off rate (all pauses, 2.5% steps), the lowest mean delay.
  out << "\nfrontier (dev): lowest mean delay for each half-request cut-off rate (all pause lengths)\n";
  for (double limit = 0.0; limit <= 0.501; limit += 0.025) {
    const std::pair<turn_end_config, scores>* best = nullptr;
    for (const auto& e : grid)
      if (e.second.cut_rate("incomplete", 1200) <= limit + 1e-9 &&
          (!best || e.second.mean_delay() < best->second.mean_delay() - 1e-9))
        best = &e;
    if (best) out << "  <= " << fmt(100 * limit, 1) << "%: " << summary(best->first, best->second) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parley_turn_end_sim: false cut-offs and endpoint delay of agent::turn_end_policy on the turn corpus"};
  std::string manifest = "out/turns/manifest.jsonl";
  std::string faq = PARLEY_TURNS_DEFAULT_FAQ;
  bool no_responder = false, do_sweep = false, explain = false;
  asr_model asr;
  double frame_ms = 10.0;
  std::string out_path;
  app.add_option("--manifest", manifest, "the corpus manifest (make_turn_corpus.py)");
  app.add_option("--faq", faq, "FAQ file of the local responder");
  app.add_flag("--no-responder", no_responder, "no responder confidence (text rules alone)");
  app.add_option("--partial-every-ms", asr.every_ms,
                 "the recogniser emits a partial every this much audio (0: continuously)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--asr-lag-ms", asr.lag_ms, "and a partial arrives this long after its audio")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--frame-ms", frame_ms, "step of the decide() cross-check")->check(CLI::PositiveNumber);
  app.add_flag("--sweep", do_sweep, "search thresholds on the dev split");
  app.add_option("--out", out_path, "also write the report here");
  app.add_flag("--explain", explain,
               "list each dev sentence's partials with the conversational preset's decision (never the test split)");
  CLI11_PARSE(app, argc, argv);

  std::shared_ptr<intents::local_responder> responder;
  if (!no_responder) {
    auto r = intents::local_responder::create({.faq_path = faq});
    if (!r) {
      std::cerr << "parley_turn_end_sim: " << r.error().describe() << "\n";
      return 2;
    }
    responder = *r;
  }
  responder_scores score(responder);
  std::vector<utterance> corpus;
  try {
    corpus = load(manifest, asr, score);
  } catch (const std::exception& e) {
    std::cerr << "parley_turn_end_sim: " << e.what() << "\n";
    return 2;
  }

  std::ostringstream out;
  if (explain) {
    const turn_end_policy policy(turn_end_config::preset(turn_taking::conversational));
    std::map<std::string, std::string> seen;  // sentence id (without the pause suffix) → lines
    for (const auto& u : corpus) {
      const std::string sid = u.id.substr(0, u.id.find('-'));
      if (u.split != "dev" || seen.count(sid)) continue;
      std::string lines;
      std::vector<const silence*> all;
      for (const auto& p : u.pauses) all.push_back(&p);
      all.push_back(&u.tail);
      for (const silence* sl : all)
        for (const auto& p : sl->pieces) {
          const auto d = policy.decide(p.text, p.p_complete, 0.0);
          lines += "  " + std::string(sl == &u.tail ? "end   " : "pause ") + "'" + p.text + "' → " +
                   std::string(to_string(d.ending)) + " " + std::string(d.reason) + " p=" +
                   (p.p_complete ? fmt(*p.p_complete, 2) : std::string("-")) + " wait " +
                   fmt(d.required_silence_ms) + "\n";
        }
      seen[sid] = u.split + " " + u.pause_kind + "\n" + lines;
    }
    for (const auto& [sid, lines] : seen) out << sid << " " << lines;
  } else if (do_sweep) {
    sweep(corpus, out);
  } else {
    struct row {
      std::string name;
      turn_end_config config;
    };
    const std::vector<row> rows = {
        {"fixed 400 ms (today)", fixed_timer(400)},
        {"fixed 1000 ms", fixed_timer(1000)},
        {"quick", turn_end_config::preset(turn_taking::quick)},
        {"conversational", turn_end_config::preset(turn_taking::conversational)},
        {"patient", turn_end_config::preset(turn_taking::patient)},
    };
    const std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d", std::localtime(&now));
    out << "parley_turn_end_sim, " << date << ", " << machine_info() << "\n";
    out << "corpus " << manifest << " (" << corpus.size() << " files), responder "
        << (responder ? "local (FAQ " + faq + ")" : std::string("none")) << ", partials "
        << (asr.every_ms > 0 ? "every " + fmt(asr.every_ms) + " ms of audio" : std::string("continuous")) << " + "
        << fmt(asr.lag_ms) << " ms lag\n\n";
    out << "| policy | split | cut-offs: half a request | 300 | 500 | 700 | 900 | 1200 ms | early reply | all paused | "
           "delay p50 | p95 | short complete p50 | p95 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    std::size_t n_checked = 0, n_disagree = 0, n_decisions = 0;
    for (const auto& r : rows) {
      const turn_end_policy policy(r.config);
      for (const std::string split : {"dev", "test"}) {
        const scores s = evaluate(policy, corpus, split);
        const auto cell = [&](const std::string& kind, int pause_ms) {
          const auto it = s.by_kind_pause.find({kind, pause_ms});
          return it == s.by_kind_pause.end() ? std::string("-") : pct(it->second.second, it->second.first);
        };
        const auto kind_cell = [&](const std::string& kind) {
          const auto it = s.by_kind.find(kind);
          return it == s.by_kind.end() ? std::string("-") : pct(it->second.second, it->second.first);
        };
        out << "| " << r.name << " | " << split << " | " << kind_cell("incomplete");
        for (int p : k_pause_lengths_ms) out << " | " << cell("incomplete", p);
        out << " | " << kind_cell("complete") << " | " << pct(s.n_cut, s.n_paused);
        out << " | " << fmt(percentile(s.delay_ms, 50)) << " | " << fmt(percentile(s.delay_ms, 95)) << " | "
            << fmt(percentile(s.delay_complete_ms, 50)) << " | " << fmt(percentile(s.delay_complete_ms, 95)) << " |\n";
      }
      // Cross-check: stepping decide() every frame ends each silence within one frame of the exact time.
      for (const auto& u : corpus) {
        std::vector<const silence*> all = {&u.tail};
        for (const auto& p : u.pauses) all.push_back(&p);
        for (const silence* sl : all) {
          const auto exact = ends_at(policy, *sl);
          const auto stepped = ends_at_stepped(policy, *sl, frame_ms, n_decisions);
          ++n_checked;
          const bool agree = exact.has_value() == stepped.has_value() &&
                             (!exact || (*stepped >= *exact - 1e-6 && *stepped < *exact + frame_ms + 1e-6));
          n_disagree += !agree;
        }
      }
    }
    out << "\ncross-check: " << n_checked << " silences, stepping decide() every " << fmt(frame_ms)
        << " ms (" << n_decisions << " calls) disagrees with the exact timer on " << n_disagree << "\n";
    // Cost: decide() on every distinct partial of the corpus (as the session would on each partial).
    std::vector<const silence_piece*> pieces;
    for (const auto& u : corpus) {
      for (const auto& p : u.tail.pieces) pieces.push_back(&p);
      for (const auto& sl : u.pauses)
        for (const auto& p : sl.pieces) pieces.push_back(&p);
    }
    const turn_end_policy policy(turn_end_config::preset(turn_taking::conversational));
    std::size_t n_ended = 0, n_calls = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int round = 0; round < 20; ++round)
      for (const auto* p : pieces) n_ended += policy.decide(p->text, p->p_complete, 300.0).ended, ++n_calls;
    const double s_total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out << "cost: " << fmt(1e6 * s_total / static_cast<double>(std::max<std::size_t>(1, n_calls)), 2)
        << " us per decide() (mean of " << n_calls << " calls on the corpus partials, this build; " << n_ended
        << " ended)\n";
  }
  std::cout << out.str();
  if (!out_path.empty()) std::ofstream(out_path) << out.str();
  return 0;
}
