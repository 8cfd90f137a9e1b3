// parley_asr_bench — word error rate, finalisation latency and real-time factor of the streaming
// pocketsphinx recognizer, side by side with pocketsphinx's own batch decode of the same audio.
//
//   parley_asr_bench --manifest ../shared/corpus/manifest.jsonl [--phrases FILE] [--json out.json]
//
// For every file of the manifest the audio is cut at the true end of speech + --tail-ms (400 ms,
// what an endpointer with a 400 ms silence timer has seen when it calls finish()). Then:
//   baseline  pocketsphinx_batch_decoder: the generic en-us model with every pocketsphinx
//             default (3 passes, batch CMN), decoding the whole clip after it was recorded;
//   streaming pocketsphinx_recognizer with domain biasing: the clip is fed in 20 ms chunks, paced
//             in real time (--pace realtime, --lanes files at once) or as fast as possible
//             (--pace fast: WER only, latency not meaningful); finalisation latency is the wall
//             time from finish() to on_final.
// WER uses obs::word_error_rate (one normaliser for every row) and sums errors over reference
// words. RTF per core = decoding CPU time (thread CPU clock) / audio time.
// --sweep "SPEC;SPEC;..." decodes the corpus with several biasing setups instead (fast pace) and
// prints one WER row per setup; SPEC is none | domain_only | interpolate:WEIGHT | switching[:BIAS]
// (two decodes, the better-scoring of generic and phrase-only LM wins), optionally
// followed by ",2pass" (second pass on), ",running", ",fixed" or ",carry" (cepstral mean modes), ",lw=X" (LM
// weight), ",opt=-name=value" (any pocketsphinx option).
// --denoise LIST runs the streaming decode once per front-end setting: none (raw audio), hp
// (high-pass only), low | moderate | high | very_high (high-pass + WebRTC noise suppression at that
// level: audio::frontend, as a session runs it, fresh per file, over the whole clip from its lead
// silence). The batch baseline always decodes the raw audio. --markdown FILE writes the WER table
// (voice x condition rows; intent+faq+short and all columns per system) for docs/benchmarks.md.
// In a sweep, ",ns=LEVEL" denoises, ",prior=N" sets cmn_prior_frames, ",rate=X" cmn_adapt_rate,
// ",restart=MS" cmn_restart_ms;
// --by-source gives it one column per voice and condition (any manifest, e.g. the unseen corpus of
// bench/asr/make_unseen_corpus.py). --cmn running scores every file as a fresh session does (from
// the model's cepstral mean, nothing learnt from earlier files).
// --transcripts NAME=FILE scores transcripts made by one `parley transcribe` process per file
// (bench/asr/transcribe_each.sh) with the same scorer, next to the baseline: recognition as a user
// meets it.
//
// The pieces: asr_bench.hpp (what they share), corpus.cpp (the manifest's audio, --denoise),
// decode_runs.cpp (baseline, streaming, switching), report.cpp (tables, markdown, JSON); this file
// holds the command line, the sweep specs and the order of the runs.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "bench/asr/asr_bench.hpp"
#include "parley/apps/engine_factory.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/engines/pocketsphinx/domain_lm.hpp"
#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"
#include "parley/obs/wer.hpp"

#ifndef PARLEY_ASR_DEFAULT_PHRASES
#define PARLEY_ASR_DEFAULT_PHRASES "bench/asr/domain_phrases.txt"
#endif

using namespace parley::asr_bench;  // NOLINT: the tool's own pieces

namespace {

struct sweep_spec {
  std::string label;
  ps::bias_mode bias = ps::bias_mode::interpolate;
  bool switching = false;
  double switch_bias = 0.0;
  double language_weight = 0.0;  // 0: the recognizer's default
  double weight = 0.3;
  bool second_pass = false;
  ps::cmn_mode cmn = ps::cmn_mode::running;
  int cmn_prior_frames = 0;  // 0: the recognizer's default
  double cmn_adapt_rate = -1.0;
  double cmn_restart_ms = -1.0;  // < 0: the recognizer's default
  std::string denoise = "none";
  std::vector<std::pair<std::string, std::string>> options;
};

// "-name=value" (a pocketsphinx option, as --ps-option and a sweep's opt= take it).
std::pair<std::string, std::string> parse_ps_option(const std::string& text) {
  const auto eq = text.find('=');
  if (text.empty() || text[0] != '-' || eq == std::string::npos)
    throw std::runtime_error("a pocketsphinx option is -name=value, got " + text);
  return {text.substr(0, eq), text.substr(eq + 1)};
}

sweep_spec parse_spec(const std::string& text, const ps::pocketsphinx_config& defaults) {
  sweep_spec s;
  s.label = text;
  s.weight = defaults.domain_weight;
  s.second_pass = defaults.second_pass;
  s.cmn = defaults.cmn;
  std::stringstream in(text);
  std::string part;
  bool first = true;
  while (std::getline(in, part, ',')) {
    if (first) {
      first = false;
      if (part == "none") s.bias = ps::bias_mode::none;
      else if (part == "domain_only") s.bias = ps::bias_mode::domain_only;
      else if (part.rfind("switching", 0) == 0) {
        s.switching = true;
        if (const auto colon = part.find(':'); colon != std::string::npos) s.switch_bias = std::stod(part.substr(colon + 1));
      }
      else if (part.rfind("interpolate", 0) == 0) {
        s.bias = ps::bias_mode::interpolate;
        if (const auto colon = part.find(':'); colon != std::string::npos) s.weight = std::stod(part.substr(colon + 1));
      } else {
        throw std::runtime_error("unknown sweep spec " + part);
      }
    } else if (part == "2pass") {
      s.second_pass = true;
    } else if (part == "1pass") {
      s.second_pass = false;
    } else if (part == "carry") {
      s.cmn = ps::cmn_mode::carry;
    } else if (part == "fixed") {
      s.cmn = ps::cmn_mode::fixed;
    } else if (part == "adaptive") {
      s.cmn = ps::cmn_mode::adaptive;
    } else if (part == "running") {
      s.cmn = ps::cmn_mode::running;
    } else if (part.rfind("prior=", 0) == 0) {
      s.cmn_prior_frames = std::stoi(part.substr(6));
    } else if (part.rfind("restart=", 0) == 0) {
      s.cmn_restart_ms = std::stod(part.substr(8));
    } else if (part.rfind("rate=", 0) == 0) {
      s.cmn_adapt_rate = std::stod(part.substr(5));
    } else if (part.rfind("ns=", 0) == 0) {
      s.denoise = part.substr(3);
      if (std::find(k_denoise_names.begin(), k_denoise_names.end(), s.denoise) == k_denoise_names.end())
        throw std::runtime_error("unknown ns= setting " + s.denoise);
    } else if (part.rfind("lw=", 0) == 0) {
      s.language_weight = std::stod(part.substr(3));
    } else if (part.rfind("opt=", 0) == 0) {  // opt=-name=value
      s.options.push_back(parse_ps_option(part.substr(4)));
    } else {
      throw std::runtime_error("unknown sweep option " + part);
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parley_asr_bench: streaming pocketsphinx vs batch baseline (WER, latency, RTF)"};
  std::string manifest = "../shared/corpus/manifest.jsonl";
  std::string phrases_path = PARLEY_ASR_DEFAULT_PHRASES;
  std::string json_path, markdown_path, order = "manifest", pace = "realtime", sweep, bias = "interpolate", cmn = "adaptive", denoise = "none";
  std::string model_dir = PARLEY_POCKETSPHINX_MODEL_DIR;
  double tail_ms = 400.0, weight = -1.0, language_weight = 0.0;
  int workers = 0, lanes = 0;
  bool second_pass = false, no_baseline = false, verbose = false;
  double auto_snr_db = parley::audio::k_asr_denoise_below_snr_db;
  std::vector<std::string> only_conditions, only_voices, ps_options, transcripts;
  bool by_source = false;
  app.add_option("--manifest", manifest, "corpus manifest (JSONL)");
  app.add_option("--phrases", phrases_path,
                 "domain phrases, one per line ('#' comments); 'responder': the ones parley's recognizer gets by "
                 "default (the local responder's, with the bundled FAQ)");
  app.add_option("--json", json_path, "write the full results here");
  app.add_option("--pace", pace, "realtime (latency measured) or fast (WER only)")->check(CLI::IsMember({"realtime", "fast"}));
  app.add_option("--lanes", lanes, "files streamed at once (0: the number of workers)");
  app.add_option("--workers", workers, "recognizer worker threads (0: hardware threads)");
  app.add_option("--bias", bias, "none | domain_only | interpolate")->check(CLI::IsMember({"none", "domain_only", "interpolate"}));
  app.add_option("--weight", weight, "domain LM weight for interpolate (default: the recognizer's)");
  app.add_option("--lw", language_weight, "pocketsphinx language weight (default: the recognizer's)");
  app.add_option("--ps-option", ps_options, "extra pocketsphinx option as -name=value (repeatable), e.g. -pl_window=0");
  app.add_flag("--second-pass", second_pass, "enable pocketsphinx's second (fwdflat) pass");
  app.add_option("--cmn", cmn, "adaptive | running | fixed | carry")->check(CLI::IsMember({"adaptive", "running", "fixed", "carry"}));
  double cmn_restart_ms = -1.0;
  app.add_option("--cmn-restart-ms", cmn_restart_ms,
                 "restart each utterance from its own cepstral mean after this much audio (0: never; default: the "
                 "recognizer's)");
  app.add_option("--tail-ms", tail_ms, "audio kept after the true end of speech (the endpointer's silence)");
  app.add_option("--sweep", sweep, "';'-separated biasing setups to compare (fast pace, WER only)");
  app.add_option("--model-dir", model_dir, "pocketsphinx model folder");
  app.add_option("--denoise", denoise,
                 "comma-separated front-end settings, one streaming run each: none | hp | low | moderate | high | "
                 "very_high | auto (a session's default: cleaned audio only when the SNR is low)");
  app.add_option("--auto-snr-db", auto_snr_db, "with --denoise auto: the SNR below which the cleaned audio is used")
      ->capture_default_str();
  app.add_option("--order", order, "decoding order: manifest | reverse | grouped (by voice and condition)")
      ->check(CLI::IsMember({"manifest", "reverse", "grouped"}));
  app.add_option("--markdown", markdown_path, "write the WER table (markdown) here");
  app.add_flag("--no-baseline", no_baseline, "skip the batch baseline");
  app.add_option("--conditions", only_conditions, "only these conditions (clean, pink20, pink10)")->delimiter(',');
  app.add_option("--voices", only_voices, "only these voices (flite:slt, ..., espeak:en-us)")->delimiter(',');
  app.add_option("--transcripts", transcripts,
                 "NAME=FILE: transcripts made one fresh process per file (bench/asr/transcribe_each.sh), scored "
                 "and tabled next to the streaming runs (repeatable; --denoise '' for these alone)");
  app.add_flag("--by-source", by_source,
               "sweep columns: one per voice and condition of the manifest (default: the tuning corpus's columns)");
  app.add_flag("-v,--verbose", verbose, "print every hypothesis");
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<std::string> phrases;
    if (phrases_path == "responder") {
      boost::asio::io_context io;
      auto responder = parley::app::build_responder({}, io.get_executor());
      if (!responder) throw std::runtime_error(responder.error().describe());
      phrases = (*responder)->domain_phrases();
    } else {
      phrases = read_phrases(phrases_path);
    }
    auto corpus = read_corpus(manifest, tail_ms);
    auto excluded = [&](const utterance& u) {
      const auto has = [](const std::vector<std::string>& v, const std::string& x) {
        return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
      };
      return !has(only_conditions, u.condition) || !has(only_voices, u.voice);
    };
    corpus.erase(std::remove_if(corpus.begin(), corpus.end(), excluded), corpus.end());
    // Decoding order matters only for state carried between utterances (cmn_mode::adaptive).
    if (order == "reverse") std::reverse(corpus.begin(), corpus.end());
    else if (order == "grouped")
      std::stable_sort(corpus.begin(), corpus.end(), [](const utterance& a, const utterance& b) {
        return std::tie(a.voice, a.condition) < std::tie(b.voice, b.condition);
      });

    // Honesty check: the phrase list must not simply contain the test sentences.
    std::set<std::string> refs;
    for (const auto& u : corpus) refs.insert(parley::obs::normalize_for_wer(u.text));
    std::size_t n_overlap = 0;
    for (const auto& p : phrases)
      if (refs.count(parley::obs::normalize_for_wer(p))) ++n_overlap;

    ps::pocketsphinx_config base;
    base.model_dir = model_dir;
    base.domain_phrases = phrases;
    base.n_workers = workers;
    base.second_pass = second_pass;
    base.cmn = cmn == "carry"     ? ps::cmn_mode::carry
               : cmn == "fixed"   ? ps::cmn_mode::fixed
               : cmn == "running" ? ps::cmn_mode::running
                                  : ps::cmn_mode::adaptive;
    base.bias = bias == "none" ? ps::bias_mode::none
                : bias == "domain_only" ? ps::bias_mode::domain_only
                                        : ps::bias_mode::interpolate;
    if (weight > 0) base.domain_weight = weight;
    base.language_weight = language_weight;
    if (cmn_restart_ms >= 0) base.cmn_restart_ms = cmn_restart_ms;
    for (const auto& o : ps_options) base.decoder_options.push_back(parse_ps_option(o));

    std::cout << "parley_asr_bench  " << machine_info() << "\n"
              << "corpus: " << corpus.size() << " files from " << manifest << ", cut at speech end + " << tail_ms
              << " ms\nphrases: " << phrases.size() << " from " << phrases_path << " (" << n_overlap
              << " identical to a corpus reference)\n\n";
    json out;
    out["machine"] = machine_info();
    out["manifest"] = manifest;
    out["n_files"] = corpus.size();
    out["tail_ms"] = tail_ms;
    out["phrases"] = {{"file", phrases_path}, {"n", phrases.size()}, {"n_identical_to_reference", n_overlap}};

    std::optional<system_run> baseline;
    if (!no_baseline) {
      baseline = run_baseline(corpus, model_dir);
      out["baseline"] = run_json(corpus, *baseline);
    }

    if (!sweep.empty()) {
      std::cout << "biasing sweep (streaming, fast pace); WER %\n  " << std::left << std::setw(26) << "setup"
                << std::right;
      std::vector<std::string> cols = {"cf:int", "cf:faq", "cf:open", "cf:pause", "cf:short", "cf:i+f+s",
                                       "cf:all", "espeak", "pink20", "pink10", "all"};
      const auto sources = by_source ? sources_of(corpus) : std::vector<std::pair<std::string, std::string>>{};
      if (by_source) {
        cols.clear();
        for (const auto& [v, c] : sources) cols.push_back(v.substr(v.find(':') + 1) + (c == "clean" ? "" : "/" + c));
        cols.push_back("all");
      }
      for (const auto& c : cols) std::cout << std::setw(std::max<int>(9, static_cast<int>(c.size()) + 1)) << c;
      std::cout << std::setw(8) << "rtf" << std::setw(16) << "end_utt p50/95" << std::setw(8) << "max" << "  (ms CPU)" << "\n";
      json rows = json::array();
      auto print_row = [&](const std::string& label, const system_run& r) {
        auto f = [&](const filter& flt) { return total_of(corpus, r, flt); };
        std::vector<wer_total> t;
        if (by_source) {
          for (const auto& [v, c] : sources)
            t.push_back(f([&](const utterance& u) { return u.voice == v && u.condition == c; }));
        } else {
          for (const auto& c : k_categories)
            t.push_back(f([&](const utterance& u) { return is_clean_flite(u) && u.category == c; }));
          t.push_back(f([](const utterance& u) {
            return is_clean_flite(u) && (u.category == "intent" || u.category == "faq" || u.category == "short");
          }));
          t.push_back(f(is_clean_flite));
          t.push_back(f([](const utterance& u) { return u.voice.rfind("espeak", 0) == 0; }));
          t.push_back(f([](const utterance& u) { return u.condition == "pink20"; }));
          t.push_back(f([](const utterance& u) { return u.condition == "pink10"; }));
        }
        t.push_back(f([](const utterance&) { return true; }));
        std::cout << "  " << std::left << std::setw(26) << label << std::right;
        json jr = {{"setup", label}, {"rtf_per_core", r.rtf()}};
        for (std::size_t k = 0; k < t.size(); ++k) {
          std::cout << std::setw(std::max<int>(9, static_cast<int>(cols[k].size()) + 1)) << pct(t[k]);
          jr[cols[k]] = t[k].wer();
        }
        std::vector<double> end_utt;
        for (const auto& d : r.results) end_utt.push_back(d.detail.end_utt_cpu_ms);
        std::cout << std::setw(8) << std::fixed << std::setprecision(3) << r.rtf() << std::setprecision(1)
                  << std::setw(9) << percentile(end_utt, 50) << "/" << std::setw(6) << percentile(end_utt, 95)
                  << std::setw(8) << percentile(end_utt, 100) << "\n";
        jr["end_utt_p50_ms"] = percentile(end_utt, 50);
        jr["end_utt_p95_ms"] = percentile(end_utt, 95);
        rows.push_back(std::move(jr));
      };
      if (baseline) print_row("baseline: batch generic", *baseline);
      std::map<std::string, std::vector<utterance>> cleaned;  // denoised copies of the corpus
      std::stringstream in(sweep);
      std::string spec_text;
      while (std::getline(in, spec_text, ';')) {
        if (spec_text.empty()) continue;
        const auto spec = parse_spec(spec_text, base);
        auto cfg = base;
        cfg.bias = spec.bias;
        cfg.domain_weight = spec.weight;
        cfg.second_pass = spec.second_pass;
        cfg.cmn = spec.cmn;
        for (const auto& o : spec.options) cfg.decoder_options.push_back(o);
        cfg.language_weight = spec.language_weight;
        if (spec.cmn_prior_frames > 0) cfg.cmn_prior_frames = spec.cmn_prior_frames;
        if (spec.cmn_adapt_rate >= 0) cfg.cmn_adapt_rate = spec.cmn_adapt_rate;
        if (spec.cmn_restart_ms >= 0) cfg.cmn_restart_ms = spec.cmn_restart_ms;
        cfg.partials = false;
        if (!cleaned.count(spec.denoise)) cleaned.emplace(spec.denoise, denoised(corpus, spec.denoise, auto_snr_db));
        const auto& input = cleaned.at(spec.denoise);
        if (spec.switching) {
          auto gcfg = cfg, dcfg = cfg;
          gcfg.bias = ps::bias_mode::none;
          dcfg.bias = ps::bias_mode::domain_only;
          // Path scores are comparable only under the same language weight.
          gcfg.language_weight = dcfg.language_weight = cfg.language_weight > 0 ? cfg.language_weight : 6.5;
          auto g = ps::pocketsphinx_recognizer::create(gcfg);
          if (!g) throw std::runtime_error(g.error().describe());
          auto d = ps::pocketsphinx_recognizer::create(dcfg);
          if (!d) throw std::runtime_error(d.error().describe());
          std::size_t wins = 0;
          const int n_lanes = lanes > 0 ? lanes : (*g)->startup().n_workers;
          const auto r = run_switching(input, **g, **d, spec_text, n_lanes, spec.switch_bias, &wins);
          print_row(spec_text, r);
          std::cout << "    (phrase model chosen for " << wins << " of " << corpus.size() << " utterances)\n";
          continue;
        }
        auto asr = ps::pocketsphinx_recognizer::create(cfg);
        if (!asr) throw std::runtime_error(asr.error().describe());
        const int n_lanes = lanes > 0 ? lanes : (*asr)->startup().n_workers;
        const auto r = run_streaming(input, **asr, spec_text, false, n_lanes);
        print_row(spec_text, r);
      }
      out["sweep"] = rows;
    } else {
      const bool realtime = pace == "realtime";
      std::vector<system_run> runs;
      std::vector<std::string> run_denoise, run_names;
      std::stringstream dl(denoise);
      for (std::string dn; std::getline(dl, dn, ',');) {
        if (dn.empty()) continue;
        if (std::find(k_denoise_names.begin(), k_denoise_names.end(), dn) == k_denoise_names.end())
          throw std::runtime_error("unknown --denoise setting " + dn);
        // A fresh recognizer per setting: no state (cmn_mode::adaptive's prior) carries between runs.
        auto asr = ps::pocketsphinx_recognizer::create(base);
        if (!asr) throw std::runtime_error(asr.error().describe());
        const auto& st = (*asr)->startup();
        if (runs.empty()) {
          std::cout << "recognizer: " << st.n_decoders << " decoders, " << st.n_workers << " workers; bias "
                    << ps::to_string(st.bias) << " (domain weight " << st.domain_weight << "), second pass "
                    << (base.second_pass ? "on" : "off") << ", cmn " << cmn << ", restart after "
                    << base.cmn_restart_ms << " ms" << (ps_options.empty() ? std::string() : ", options " + CLI::detail::join(ps_options, " ")) << "\n"
                    << "start-up: " << std::fixed << std::setprecision(0) << st.startup_ms << " ms; per decoder "
                    << st.decoder_init_ms << " ms, ~" << st.decoder_rss_mb << " MB resident; phrase LM "
                    << st.n_domain_phrases << " phrases, " << st.n_domain_words << " words; "
                    << st.added_words.size() << " words given pronunciations\n";
          for (const auto& w : st.added_words)
            std::cout << "  + " << w.word << "  " << w.phones << "  (" << ps::to_string(w.source) << ")\n";
          out["recognizer"] = {{"bias", ps::to_string(st.bias)},
                               {"domain_weight", st.domain_weight},
                               {"second_pass", base.second_pass},
                               {"cmn", cmn},
                               {"n_decoders", st.n_decoders},
                               {"n_workers", st.n_workers},
                               {"startup_ms", st.startup_ms},
                               {"decoder_init_ms", st.decoder_init_ms},
                               {"decoder_rss_mb", st.decoder_rss_mb},
                               {"n_added_words", st.added_words.size()}};
        }
        const int n_lanes = lanes > 0 ? lanes : st.n_workers;
        const auto input = denoised(corpus, dn, auto_snr_db);
        runs.push_back(run_streaming(input, **asr, "streaming, front-end " + dn, realtime, n_lanes));
        run_denoise.push_back(dn);
        run_names.push_back(dn == "none" ? std::string("streaming + bias") : "streaming + bias, NS " + dn);
        const auto s = (*asr)->stats();
        std::cout << "[" << dn << "] recognizer stats: " << s.n_finals << " finals, " << s.n_waited_for_decoder
                  << " waited for a decoder, " << s.n_dropped_samples << " samples dropped; " << n_lanes
                  << " lanes, " << pace << " pace\n";
      }

      const std::size_t n_streaming = runs.size();
      for (const auto& t : transcripts) {
        const auto eq = t.find('=');
        if (eq == std::string::npos || eq == 0) throw std::runtime_error("--transcripts takes NAME=FILE, got " + t);
        runs.push_back(read_transcripts(corpus, t.substr(0, eq), t.substr(eq + 1)));
        run_names.push_back(t.substr(0, eq));
      }
      std::cout << std::fixed << std::setprecision(1) << "\nWER % by voice/condition x category\n";
      if (baseline) {
        std::cout << "baseline: " << baseline->name << "\n";
        print_matrix(std::cout, corpus, *baseline);
      }
      for (const auto& r : runs) {
        std::cout << r.name << "\n";
        print_matrix(std::cout, corpus, r);
      }
      std::cout << std::setprecision(3) << "\nreal-time factor per core (decoding CPU / audio):";
      if (baseline) std::cout << " batch " << baseline->rtf() << ";";
      for (std::size_t k = 0; k < n_streaming; ++k) std::cout << " " << run_denoise[k] << " " << runs[k].rtf() << ";";
      std::cout << "\n";

      if (!markdown_path.empty()) {
        std::ofstream md(markdown_path);
        write_markdown(md, corpus, baseline ? &*baseline : nullptr, runs, run_names);
        std::cout << "wrote " << markdown_path << "\n";
      }

      json jruns = json::array();
      for (std::size_t k = 0; k < n_streaming; ++k) {
        const auto& r = runs[k];
        json jr = run_json(corpus, r);
        jr["denoise"] = run_denoise[k];
        jr["pace"] = pace;
        if (realtime) {
          std::cout << "\nfinalisation (finish() -> on_final), front-end " << run_denoise[k] << ":\n";
          jr["finalisation_ms"] = print_finalisation(std::cout, corpus, r);
        }
        std::size_t n_partials = 0, n_partial_before_final = 0;
        for (const auto& d : r.results) {
          n_partials += static_cast<std::size_t>(d.n_partials);
          if (d.partial_before_final) ++n_partial_before_final;
        }
        jr["n_partials"] = n_partials;
        if (base.partials)
          std::cout << "partials: " << n_partials << " in " << corpus.size() << " utterances; "
                    << n_partial_before_final << " utterances had a partial before the final\n";
        jruns.push_back(std::move(jr));
      }
      out["streaming"] = std::move(jruns);
      for (std::size_t k = n_streaming; k < runs.size(); ++k) out["transcripts"][run_names[k]] = run_json(corpus, runs[k]);

      if (verbose) {
        for (std::size_t i = 0; i < corpus.size(); ++i) {
          std::cout << corpus[i].id << " " << corpus[i].voice << " " << corpus[i].condition << "\n  ref: "
                    << corpus[i].text << "\n";
          if (baseline) std::cout << "  batch: " << baseline->results[i].hyp << "\n";
          for (std::size_t k = 0; k < runs.size(); ++k)
            std::cout << "  " << run_names[k] << ": " << runs[k].results[i].hyp << "\n";
        }
      }
    }
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      f << out.dump(2) << "\n";
      std::cout << "\nwrote " << json_path << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "parley_asr_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
