// parley_cache_threshold — how the response cache's semantic threshold trades hits for false hits.
//
// Reads labelled query pairs (data/cache/paraphrases.tsv: same / diff meaning), and for each pair
// does what the cache does when `a` is stored and `b` is asked: an exact hit when the normalised
// keys are equal, else a semantic hit when cos(embed(a), embed(b)) >= threshold and both name the
// same numbers. Prints, per threshold, the hit rate on same-meaning pairs and the false-hit rate
// on different-meaning pairs, for all pairs and for the dev and test halves; then the threshold
// chosen on dev (most hits with at most --max-false-hit false hits) and its test result, and a
// check that response_cache itself gives the same answers at the default threshold.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "parley/cache/memory_store.hpp"
#include "parley/cache/query_key.hpp"
#include "parley/cache/response_cache.hpp"
#include "parley/engines/llama/llama_embedder.hpp"
#include "parley/engines/ngram/ngram_embedder.hpp"
#include "parley/engines/openai/openai_embedder.hpp"

namespace {

struct pair_row {
  bool same = false;
  std::string topic, split, a, b;
  std::string key_a, key_b;  // normalised, as the cache keys them
  double similarity = 0.0;
  bool exact = false;
  bool compatible = true;
};

struct rates {
  int n_same = 0, n_diff = 0, hits = 0, false_hits = 0;
  double hit_rate() const { return n_same ? 100.0 * hits / n_same : 0.0; }
  double false_rate() const { return n_diff ? 100.0 * false_hits / n_diff : 0.0; }
};

bool hit_at(const pair_row& p, double t) { return p.exact || (p.compatible && p.similarity >= t); }

rates measure(const std::vector<pair_row>& rows, double t, const std::string& split) {
  rates r;
  for (const auto& p : rows) {
    if (!split.empty() && p.split != split) continue;
    const bool h = hit_at(p, t);
    if (p.same) ++r.n_same, r.hits += h;
    else ++r.n_diff, r.false_hits += h;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sweep the response cache's semantic threshold over a labelled paraphrase set."};
  std::string path = PARLEY_CACHE_DEFAULT_PAIRS;
  std::size_t dims = 512;
  double max_false = 2.0, lo = 0.30, hi = 0.95, step = 0.025;
  bool verbose = false, no_stem = false, no_synonyms = false, no_guard = false;
  app.add_option("--data", path, "TSV of labelled pairs")->capture_default_str();
  app.add_option("--dims", dims, "embedding size")->capture_default_str();
  app.add_option("--max-false-hit", max_false, "false-hit budget in percent for the chosen threshold")
      ->capture_default_str();
  app.add_option("--from", lo)->capture_default_str();
  app.add_option("--to", hi)->capture_default_str();
  app.add_option("--step", step)->capture_default_str();
  std::string model_path, embedder_model;
  app.add_option("--embedder", model_path,
                 "measure another embedder instead of the built-in n-gram one: a GGUF embedding model (llama.cpp) "
                 "or the base URL of an OpenAI-compatible embeddings server (http://HOST:PORT/v1)");
  app.add_option("--embedder-model", embedder_model, "with an embeddings server: the model name to ask for");
  bool guard_with_embedder = false;
  app.add_flag("--guard-with-embedder", guard_with_embedder,
               "with --embedder: the substitution guard compares words with that embedder too (the runtime uses "
               "the n-gram one)");
  app.add_flag("--verbose", verbose, "print every pair with its similarity");
  std::string pairs_tsv;
  app.add_option("--pairs-tsv", pairs_tsv,
                 "write every pair as the cache sees it to this TSV (label, split, similarity, exact, guard, the "
                 "normalised keys and their content words), for other tools such as probe_lexical_resources.py");
  app.add_flag("--no-stem", no_stem, "ablation: no stemming");
  app.add_flag("--no-synonyms", no_synonyms, "ablation: no synonym groups");
  app.add_flag("--no-guard", no_guard, "ablation: no substitution guard");
  double word_match = parley::cache::response_cache_config{}.word_match_threshold;
  app.add_option("--word-match", word_match, "substitution guard: cosine at which two words match")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(path);
  if (!in) {
    std::cerr << "cannot read " << path << "\n";
    return 1;
  }
  std::vector<pair_row> rows;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string part;
    while (std::getline(ss, part, '\t')) f.push_back(part);
    if (f.size() != 5 || (f[0] != "same" && f[0] != "diff")) {
      std::cerr << path << ":" << line_no << ": expected label<TAB>topic<TAB>split<TAB>a<TAB>b\n";
      return 1;
    }
    rows.push_back(pair_row{f[0] == "same", f[1], f[2], f[3], f[4]});
  }

  parley::ngram::ngram_config cfg;
  cfg.dims = dims;
  cfg.stem = !no_stem;
  cfg.synonyms = !no_synonyms;
  std::shared_ptr<parley::engine::embedder> embedder = std::make_shared<parley::ngram::ngram_embedder>(cfg);
  parley::cache::response_cache_config rc_cfg;
  if (model_path.rfind("http://", 0) == 0 || model_path.rfind("https://", 0) == 0) {
    parley::openai::embedder_config ecfg;
    ecfg.provider.base_url = model_path;
    ecfg.model = embedder_model;
    ecfg.request_timeout_ms = 10'000;  // offline measurement: no turn is waiting
    auto made = parley::openai::openai_embedder::create(std::move(ecfg));
    if (!made) {
      std::cerr << "--embedder: " << made.error().message << "\n";
      return 1;
    }
    embedder = std::move(*made);
  } else if (!model_path.empty()) {
    auto loaded = parley::llama::llama_embedder::load({.model_path = model_path});
    if (!loaded) {
      std::cerr << loaded.error().describe() << "\n";
      return 1;
    }
    embedder = std::move(*loaded);
  }
  // As at run time (apps/engine_factory): the substitution guard compares single words with the
  // n-gram embedder whatever embeds the queries.
  if (!model_path.empty() && !guard_with_embedder) rc_cfg.word_embedder = std::make_shared<parley::ngram::ngram_embedder>(cfg);
  rc_cfg.substitution_guard = !no_guard;
  rc_cfg.word_match_threshold = word_match;
  auto made = parley::cache::response_cache::create(rc_cfg, embedder, std::make_shared<parley::cache::memory_store>(),
                                                    nullptr);
  if (!made) {
    std::cerr << made.error().describe() << "\n";
    return 1;
  }
  const auto& probe = **made;
  for (auto& p : rows) {
    p.key_a = parley::cache::normalize_query(p.a);
    p.key_b = parley::cache::normalize_query(p.b);
    p.exact = p.key_a == p.key_b;
    p.compatible = probe.compatible(p.key_a, p.key_b);
    auto va = embedder->embed(p.key_a), vb = embedder->embed(p.key_b);
    if (!va || !vb) {
      std::cerr << embedder->name() << ": " << (va ? vb.error() : va.error()).describe() << "\n";
      return 1;
    }
    p.similarity = parley::engine::dot(*va, *vb);
  }

  rates all0 = measure(rows, 2.0, "");
  std::printf("pairs: %d same-meaning, %d different-meaning (%s), embedder %s\n", all0.n_same, all0.n_diff,
              path.c_str(), embedder->name().c_str());
  std::printf("exact-key hits alone: %d same (%.1f%%), %d diff\n\n", all0.hits, all0.hit_rate(), all0.false_hits);
  std::printf("threshold |   all: hit%%  false%% |   dev: hit%%  false%% |  test: hit%%  false%%\n");
  double best_t = hi, best_hits = -1;
  for (double t = lo; t <= hi + 1e-9; t += step) {
    const rates a = measure(rows, t, ""), d = measure(rows, t, "dev"), s = measure(rows, t, "test");
    std::printf("   %.3f  |  %6.1f  %6.1f   |  %6.1f  %6.1f   |  %6.1f  %6.1f\n", t, a.hit_rate(), a.false_rate(),
                d.hit_rate(), d.false_rate(), s.hit_rate(), s.false_rate());
    if (d.false_rate() <= max_false && d.hit_rate() > best_hits) best_hits = d.hit_rate(), best_t = t;
  }
  const rates ct = measure(rows, best_t, "test"), ca = measure(rows, best_t, "");
  std::printf("\nchosen on dev (false hits <= %.1f%%): %.3f  →  test: %.1f%% hits, %.1f%% false;  all: %.1f%% hits, "
              "%.1f%% false\n",
              max_false, best_t, ct.hit_rate(), ct.false_rate(), ca.hit_rate(), ca.false_rate());

  // The runtime path, at the compiled-in default: store `a`, look up `b`.
  const double t_default = parley::cache::k_default_semantic_threshold;
  int rt_hits = 0, rt_false = 0, mismatches = 0;
  for (const auto& p : rows) {
    auto rc = parley::cache::response_cache::create(rc_cfg, embedder, std::make_shared<parley::cache::memory_store>(),
                                                    nullptr);
    if (!rc) {
      std::cerr << rc.error().describe() << "\n";
      return 1;
    }
    parley::cache::cached_reply r;
    r.text = "x";
    r.reply_class = "static";
    if (!(*rc)->store(p.a, {}, r)) continue;
    const bool h = (*rc)->lookup(p.b, {}).kind != parley::cache::match_kind::miss;
    if (h != hit_at(p, t_default)) ++mismatches;
    if (p.same) rt_hits += h;
    else rt_false += h;
  }
  std::printf("response_cache at the default %.3f: %.1f%% hits, %.1f%% false hits (%d disagreements with the sweep)\n",
              t_default, 100.0 * rt_hits / all0.n_same, 100.0 * rt_false / all0.n_diff, mismatches);

  if (!pairs_tsv.empty()) {
    std::ofstream out(pairs_tsv);
    auto join = [](const std::vector<std::string>& words) {
      std::string joined;
      for (const auto& w : words) joined += (joined.empty() ? "" : " ") + w;
      return joined;
    };
    out << "label\tsplit\tsimilarity\texact\tguard\tkey_a\tkey_b\tcontent_a\tcontent_b\n";
    for (const auto& p : rows)
      out << (p.same ? "same" : "diff") << '\t' << p.split << '\t' << p.similarity << '\t' << p.exact << '\t'
          << p.compatible << '\t' << p.key_a << '\t' << p.key_b << '\t' << join(parley::cache::content_words(p.key_a))
          << '\t' << join(parley::cache::content_words(p.key_b)) << '\n';
    if (!out) {
      std::cerr << "cannot write " << pairs_tsv << "\n";
      return 1;
    }
  }

  if (verbose) {
    std::printf("\nlabel split sim   exact nums  a | b   (at the default threshold: MISS = same not hit, FALSE = diff hit)\n");
    for (const auto& p : rows) {
      const bool h = hit_at(p, t_default);
      const char* flag = p.same ? (h ? "" : "MISS") : (h ? "FALSE" : "");
      std::printf("%-5s %-4s %.3f  %d     %d    %s | %s  %s\n", p.same ? "same" : "diff", p.split.c_str(), p.similarity, p.exact,
                  p.compatible, p.a.c_str(), p.b.c_str(), flag);
    }
  }
  return 0;
}
