// parley_asr_bench's tables and JSON: WER by voice/condition x category, the markdown table of
// docs/benchmarks.md, finalisation latency percentiles (see asr_bench.hpp).
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "bench/asr/asr_bench.hpp"
#include "parley/core/clock.hpp"

namespace parley::asr_bench {

wer_total total_of(const std::vector<utterance>& corpus, const system_run& run, const filter& f) {
  wer_total t;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    if (f(corpus[i])) t.add(run.results[i].wer);
  return t;
}

std::string pct(const wer_total& t) {
  if (t.n_utterances == 0) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << 100.0 * t.wer();
  return os.str();
}

bool is_clean_flite(const utterance& u) { return u.condition == "clean" && u.voice.rfind("flite:", 0) == 0; }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(v.size()))));
  return v[rank - 1];
}

const std::vector<std::string> k_categories = {"intent", "faq", "open", "pause", "short"};

std::vector<std::pair<std::string, std::string>> sources_of(const std::vector<utterance>& corpus) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& u : corpus)
    if (std::find(out.begin(), out.end(), std::make_pair(u.voice, u.condition)) == out.end())
      out.emplace_back(u.voice, u.condition);
  return out;
}

void print_matrix(std::ostream& os, const std::vector<utterance>& corpus, const system_run& run) {
  const auto rows = sources_of(corpus);
  // The tuning corpus's categories, then any other the manifest names (the unseen corpus's).
  std::vector<std::string> categories = k_categories;
  for (const auto& u : corpus)
    if (std::find(categories.begin(), categories.end(), u.category) == categories.end()) categories.push_back(u.category);
  os << "  " << std::left << std::setw(24) << "voice / condition";
  for (const auto& c : categories) os << std::right << std::setw(8) << c;
  os << std::setw(8) << "all" << std::setw(8) << "words" << "\n";
  auto row = [&](const std::string& label, const filter& f) {
    os << "  " << std::left << std::setw(24) << label;
    for (const auto& c : categories)
      os << std::right << std::setw(8) << pct(total_of(corpus, run, [&](const utterance& u) { return f(u) && u.category == c; }));
    const auto all = total_of(corpus, run, f);
    os << std::setw(8) << pct(all) << std::setw(8) << all.n_ref_words << "\n";
  };
  for (const auto& [v, c] : rows)
    row(v + " " + c, [&](const utterance& u) { return u.voice == v && u.condition == c; });
  row("clean flite (3 voices)", is_clean_flite);
  row("clean, all voices", [](const utterance& u) { return u.condition == "clean"; });
  row("everything", [](const utterance&) { return true; });
}

namespace {
bool is_ifs(const utterance& u) { return u.category == "intent" || u.category == "faq" || u.category == "short"; }
}  // namespace

/// The WER table for docs/benchmarks.md: one row per voice/condition (and summary rows), two
/// columns per system (intent+faq+short queries, all queries), then the RTF per core.
void write_markdown(std::ostream& os, const std::vector<utterance>& corpus, const system_run* baseline,
                    const std::vector<system_run>& runs, const std::vector<std::string>& run_names) {
  std::vector<const system_run*> systems;
  std::vector<std::string> names;
  if (baseline) {
    systems.push_back(baseline);
    names.push_back("batch, generic LM");
  }
  for (std::size_t k = 0; k < runs.size(); ++k) {
    systems.push_back(&runs[k]);
    names.push_back(run_names[k]);
  }
  os << "| voice | condition | files |";
  for (const auto& n : names) os << " " << n << ": i+f+s | all |";
  os << "\n|---|---|---|";
  for (std::size_t k = 0; k < names.size(); ++k) os << "---|---|";
  os << "\n";
  auto row = [&](const std::string& voice, const std::string& condition, const filter& f, bool bold) {
    std::size_t n = 0;
    for (const auto& u : corpus) n += f(u) ? 1 : 0;
    if (n == 0) return;  // a summary row this corpus has no files for
    os << "| " << voice << " | " << condition << " | " << n << " |";
    for (const auto* r : systems) {
      const auto a = total_of(corpus, *r, [&](const utterance& u) { return f(u) && is_ifs(u); });
      const auto b = total_of(corpus, *r, f);
      if (bold) os << " **" << pct(a) << "** | **" << pct(b) << "** |";
      else os << " " << pct(a) << " | " << pct(b) << " |";
    }
    os << "\n";
  };
  auto rows = sources_of(corpus);
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    auto rank = [](const std::string& c) { return c == "clean" ? 0 : c == "pink20" ? 1 : 2; };
    return rank(a.second) < rank(b.second);
  });
  for (const auto& [v, c] : rows)
    row(v, c, [&](const utterance& u) { return u.voice == v && u.condition == c; }, false);
  row("flite slt+rms+awb", "clean", is_clean_flite, true);
  row("all voices", "clean", [](const utterance& u) { return u.condition == "clean"; }, false);
  row("everything", "all", [](const utterance&) { return true; }, false);
  os << "| real-time factor per core | | |";
  for (const auto* r : systems) {
    if (r->audio_ms > 0) os << " " << std::fixed << std::setprecision(3) << r->rtf() << " | |";
    else os << " - | |";  // transcripts made elsewhere: not timed here
  }
  os << std::setprecision(1) << "\n";
}

/// Finalisation latency percentiles (overall, per condition) with the breakdown of where the time
/// goes and the slowest utterances. Returns the numbers as JSON.
json print_finalisation(std::ostream& os, const std::vector<utterance>& corpus, const system_run& run) {
  json j;
  auto stats = [&](const std::string& label, const filter& f) {
    std::vector<double> total, backlog, wait, catch_up, end_utt, end_utt_cpu;
    for (std::size_t i = 0; i < corpus.size(); ++i) {
      const auto& d = run.results[i];
      if (!f(corpus[i]) || d.final_ms < 0) continue;
      total.push_back(d.final_ms);
      backlog.push_back(d.detail.backlog_ms);
      wait.push_back(d.detail.wait_ms);
      catch_up.push_back(d.detail.catch_up_ms);
      end_utt.push_back(d.detail.end_utt_ms);
      end_utt_cpu.push_back(d.detail.end_utt_cpu_ms);
    }
    if (total.empty()) return;
    os << "  " << std::left << std::setw(26) << label << std::right << std::fixed << std::setprecision(1)
       << "n " << std::setw(3) << total.size() << "  total p50 " << std::setw(6) << percentile(total, 50) << "  p95 "
       << std::setw(6) << percentile(total, 95) << "  max " << std::setw(6) << percentile(total, 100)
       << " | p50/p95 backlog " << percentile(backlog, 50) << "/" << percentile(backlog, 95) << " ms audio, wait "
       << percentile(wait, 50) << "/" << percentile(wait, 95) << ", catch-up " << percentile(catch_up, 50) << "/"
       << percentile(catch_up, 95) << ", end_utt " << percentile(end_utt, 50) << "/" << percentile(end_utt, 95)
       << " (CPU " << percentile(end_utt_cpu, 50) << "/" << percentile(end_utt_cpu, 95) << ")\n";
    j[label] = {{"n", total.size()},
                {"p50", percentile(total, 50)},
                {"p90", percentile(total, 90)},
                {"p95", percentile(total, 95)},
                {"p99", percentile(total, 99)},
                {"max", percentile(total, 100)},
                {"end_utt_p50", percentile(end_utt, 50)},
                {"end_utt_p95", percentile(end_utt, 95)},
                {"end_utt_cpu_p50", percentile(end_utt_cpu, 50)},
                {"end_utt_cpu_p95", percentile(end_utt_cpu, 95)},
                {"backlog_p95", percentile(backlog, 95)}};
  };
  stats("all", [](const utterance&) { return true; });
  stats("intent+faq", [](const utterance& u) { return u.category == "intent" || u.category == "faq"; });
  std::set<std::string> conditions;
  for (const auto& u : corpus) conditions.insert(u.condition);
  for (const auto& c : conditions) stats("condition " + c, [&](const utterance& u) { return u.condition == c; });
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    if (run.results[i].final_ms >= 0) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return run.results[a].final_ms > run.results[b].final_ms; });
  os << "  slowest:\n";
  for (std::size_t k = 0; k < std::min<std::size_t>(8, order.size()); ++k) {
    const auto& u = corpus[order[k]];
    const auto& d = run.results[order[k]];
    os << "    " << std::setw(7) << d.final_ms << " ms  " << u.id << " " << u.voice << " " << u.condition << " ("
       << parley::samples_to_ms(static_cast<parley::media_time>(u.samples.size())) << " ms audio, "
       << d.detail.n_frames << " frames): backlog " << d.detail.backlog_ms << " ms, wait " << d.detail.wait_ms
       << ", catch-up " << d.detail.catch_up_ms << ", end_utt " << d.detail.end_utt_ms << "\n";
  }
  return j;
}

json run_json(const std::vector<utterance>& corpus, const system_run& run) {
  json j;
  j["name"] = run.name;
  j["rtf_per_core"] = run.rtf();
  j["audio_ms"] = run.audio_ms;
  j["cpu_ms"] = run.cpu_ms;
  auto add = [&](json& into, const std::string& key, const filter& f) {
    const auto t = total_of(corpus, run, f);
    into[key] = {{"wer", t.wer()}, {"n_ref_words", t.n_ref_words}, {"n_sub", t.n_sub}, {"n_del", t.n_del},
                 {"n_ins", t.n_ins}, {"n_utterances", t.n_utterances}, {"n_exact", t.n_exact}};
  };
  json groups;
  std::set<std::pair<std::string, std::string>> vc;
  for (const auto& u : corpus) vc.emplace(u.voice, u.condition);
  for (const auto& [v, c] : vc) add(groups, v + " " + c, [&](const utterance& u) { return u.voice == v && u.condition == c; });
  for (const auto& cat : k_categories) {
    add(groups, "clean flite / " + cat, [&](const utterance& u) { return is_clean_flite(u) && u.category == cat; });
    add(groups, "all / " + cat, [&](const utterance& u) { return u.category == cat; });
  }
  add(groups, "clean flite", is_clean_flite);
  add(groups, "clean flite / intent+faq+short", [](const utterance& u) {
    return is_clean_flite(u) && (u.category == "intent" || u.category == "faq" || u.category == "short");
  });
  add(groups, "everything", [](const utterance&) { return true; });
  j["wer"] = groups;
  json utts = json::array();
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const auto& d = run.results[i];
    json u = {{"id", corpus[i].id},        {"voice", corpus[i].voice}, {"condition", corpus[i].condition},
              {"category", corpus[i].category}, {"ref", corpus[i].text}, {"hyp", d.hyp},
              {"errors", d.wer.n_errors()}, {"ref_words", d.wer.n_ref_words}};
    if (d.final_ms >= 0) {
      u["final_ms"] = d.final_ms;
      u["final_detail"] = {{"backlog_ms", d.detail.backlog_ms},
                           {"wait_ms", d.detail.wait_ms},
                           {"catch_up_ms", d.detail.catch_up_ms},
                           {"end_utt_ms", d.detail.end_utt_ms},
                           {"end_utt_cpu_ms", d.detail.end_utt_cpu_ms},
                           {"n_frames", d.detail.n_frames}};
    }
    if (d.n_partials > 0) {
      u["n_partials"] = d.n_partials;
      u["first_partial_ms"] = d.first_partial_ms;
    }
    utts.push_back(std::move(u));
  }
  j["utterances"] = std::move(utts);
  return j;
}

}  // namespace parley::asr_bench
