// Tests of engines/pocketsphinx: the pure parts (phrase LM, pronunciations, stability) and the real
// recognizer on speech synthesised with flite at test time (label real_engine). Speech tests are
// skipped when flite or the pocketsphinx model is missing; they never assert absolute times.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "parley/audio/wav.hpp"
#include "parley/engines/pocketsphinx/domain_lm.hpp"
#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"
#include "parley/engines/pocketsphinx/pronounce.hpp"
#include "parley/obs/wer.hpp"

namespace parley::pocketsphinx {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto k_wait = 60s;  // an upper bound for "it happened" (sanitizer builds are slow)

// --- phrase words and the ARPA model ----------------------------------------------------------

TEST(phrase_words, normalises_like_the_recognizer_speaks) {
  EXPECT_EQ(phrase_words("Set a timer for 10 minutes!"),
            (std::vector<std::string>{"set", "a", "timer", "for", "ten", "minutes"}));
  EXPECT_EQ(phrase_words("What's the time?"), (std::vector<std::string>{"what's", "the", "time"}));
  EXPECT_EQ(phrase_words("'quoted' e-mail"), (std::vector<std::string>{"quoted", "e", "mail"}));
  EXPECT_EQ(phrase_words("  "), std::vector<std::string>{});
  EXPECT_EQ(number_to_words("0"), "zero");
  EXPECT_EQ(number_to_words("15"), "fifteen");
  EXPECT_EQ(number_to_words("42"), "forty two");
  EXPECT_EQ(number_to_words("100"), "one hundred");
  EXPECT_EQ(number_to_words("2024"), "two thousand twenty four");
  EXPECT_EQ(number_to_words("007"), "zero zero seven");
  EXPECT_EQ(number_to_words("123456"), "one hundred twenty three thousand four hundred fifty six");
  EXPECT_EQ(number_to_words("5551234"), "five five five one two three four");  // past six digits
  EXPECT_EQ(phrase_words("1,500 steps"), (std::vector<std::string>{"one", "thousand", "five", "hundred", "steps"}));
}

// A tiny ARPA reader, to check the model we write.
struct arpa_model {
  std::map<std::vector<std::string>, std::pair<double, double>> grams;  // log10 prob, log10 backoff
  int order = 0;
  std::set<std::string> vocab;

  explicit arpa_model(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    int section = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      if (line.rfind("\\", 0) == 0) {
        if (line.find("-grams:") != std::string::npos) section = line[1] - '0';
        else section = 0;
        order = std::max(order, section);
        continue;
      }
      if (section == 0) continue;
      std::istringstream f(line);
      double lp = 0;
      f >> lp;
      std::vector<std::string> g(static_cast<std::size_t>(section));
      for (auto& w : g) f >> w;
      double bo = 0;
      if (!(f >> bo)) bo = 0;
      grams[g] = {lp, bo};
      if (section == 1) vocab.insert(g[0]);
    }
  }
  // P(w | h) with back-off.
  double prob(std::vector<std::string> h, const std::string& w) const {
    auto g = h;
    g.push_back(w);
    if (auto it = grams.find(g); it != grams.end()) return std::pow(10.0, it->second.first);
    if (h.empty()) return 0.0;
    double bo = 0;
    if (auto it = grams.find(h); it != grams.end()) bo = it->second.second;
    h.erase(h.begin());
    return std::pow(10.0, bo) * prob(h, w);
  }
};

TEST(build_arpa, every_context_sums_to_one) {
  const std::vector<std::vector<std::string>> sentences = {
      phrase_words("set a timer for ten minutes"), phrase_words("set a timer for two minutes"),
      phrase_words("cancel the timer"),            phrase_words("what is the time"),
      phrase_words("what is the date today"),      phrase_words("set an alarm")};
  const auto text = build_arpa(sentences);
  ASSERT_FALSE(text.empty());
  const arpa_model m(text);
  EXPECT_EQ(m.order, 3);
  EXPECT_TRUE(m.vocab.count("<s>"));
  EXPECT_TRUE(m.vocab.count("</s>"));
  // Every history seen in the data (and one unseen) gives a distribution over the vocabulary.
  std::vector<std::vector<std::string>> histories = {{}, {"<s>"}, {"set"}, {"<s>", "set"}, {"set", "a"},
                                                     {"timer", "for"}, {"the"}, {"minutes", "cancel"}};
  for (const auto& h : histories) {
    double sum = 0.0;
    for (const auto& w : m.vocab)
      if (w != "<s>") sum += m.prob(h, w);
    EXPECT_NEAR(sum, 1.0, 1e-3) << "history size " << h.size() << (h.empty() ? "" : " " + h.back());
  }
  // The phrases themselves are likely: "timer" after "set a" beats "alarm" after "set a".
  EXPECT_GT(m.prob({"set", "a"}, "timer"), m.prob({"set", "a"}, "alarm"));
  EXPECT_EQ(build_arpa({}), "");
}

// --- pronunciations -------------------------------------------------------------------------

bool all_cmu(const std::string& phones) {
  std::istringstream in(phones);
  std::string p;
  int n = 0;
  while (in >> p) {
    if (!is_cmu_phone(p)) return false;
    ++n;
  }
  return n > 0;
}

TEST(pronounce, maps_espeak_ipa_to_cmu_phones) {
  EXPECT_EQ(ipa_to_cmu("h_ə_l_ˈoʊ"), "HH AH L OW");
  EXPECT_EQ(ipa_to_cmu("p_ˈɑːɹ_l_i"), "P AA R L IY");
  EXPECT_EQ(ipa_to_cmu("tʃ_ˈɜː_tʃ"), "CH ER CH");
  EXPECT_EQ(ipa_to_cmu("θ_ˈɪ_ŋ_k_ɪ_ŋ"), "TH IH NG K IH NG");
  EXPECT_EQ(ipa_to_cmu("b_ˈʌ_ɾ_ɚ"), "B AH T ER");
  EXPECT_EQ(ipa_to_cmu("ˈˌ"), "");
}

TEST(pronounce, letter_rules_give_cmu_phones) {
  for (const char* w : {"zorblax", "parley", "thwip", "quixotic", "schnell", "a", "xylo", "night", "make"}) {
    const auto phones = letters_to_cmu(w);
    EXPECT_TRUE(all_cmu(phones)) << w << " -> " << phones;
  }
  EXPECT_EQ(letters_to_cmu("ship"), "SH IH P");
  EXPECT_EQ(letters_to_cmu("make"), "M EY K");
}

TEST(pronounce, espeak_or_rules_for_a_made_up_word) {
  const auto p = guess_pronunciation("zorblax", "espeak-ng");
  EXPECT_EQ(p.word, "zorblax");
  EXPECT_TRUE(all_cmu(p.phones)) << p.phones;
  const auto rules = guess_pronunciation("zorblax", "");  // espeak disabled
  EXPECT_EQ(rules.source, pron_source::rules);
  EXPECT_TRUE(all_cmu(rules.phones));
  const auto missing = guess_pronunciation("zorblax", "/nonexistent/espeak-ng");
  EXPECT_EQ(missing.source, pron_source::rules);
}

// --- stability ------------------------------------------------------------------------------

TEST(partial_tracker, counts_leading_words_that_stayed_the_same) {
  partial_tracker t(3);
  EXPECT_EQ(t.update("what"), 0.0);  // nothing confirmed yet
  EXPECT_EQ(t.stable_words(), 0u);
  EXPECT_DOUBLE_EQ(t.update("what time"), 0.5);  // "what" twice
  EXPECT_EQ(t.stable_words(), 1u);
  EXPECT_DOUBLE_EQ(t.update("what time is"), 1.0 / 3.0);  // only "what" in all three
  EXPECT_DOUBLE_EQ(t.update("what time is"), 2.0 / 3.0);  // "what time" in the last three
  EXPECT_DOUBLE_EQ(t.update("what time is"), 1.0);
  EXPECT_DOUBLE_EQ(t.update("what tim is it"), 0.25);  // a word changed: stability drops
  EXPECT_EQ(t.update(""), 0.0);
  t.reset();
  EXPECT_EQ(t.update("hello"), 0.0);
}

// --- the real recognizer ----------------------------------------------------------------------

bool have_flite() { return std::system("flite -lv > /dev/null 2>&1") == 0; }
bool have_model() { return fs::exists(fs::path(PARLEY_POCKETSPHINX_MODEL_DIR) / "en-us.lm.bin"); }

/// 16 kHz speech of `text` by flite's slt voice, with 300 ms of silence before and 400 ms after
/// (what the session feeds: pre-roll, then the audio up to the endpoint).
std::vector<std::int16_t> speak(const std::string& text) {
  static std::atomic<int> counter{0};
  const auto path = (fs::temp_directory_path() /
                     ("parley-ps-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".wav"))
                        .string();
  const std::string cmd = "flite -voice slt -t \"" + text + "\" -o " + path + " > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return {};
  auto clip = audio::read_audio_file(path);
  fs::remove(path);
  if (!clip) return {};
  std::vector<std::int16_t> out(4800, 0);
  out.insert(out.end(), clip->samples.begin(), clip->samples.end());
  out.insert(out.end(), 6400, 0);
  return out;
}

struct collected {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::string, double>> partials;
  std::optional<result<std::string>> final_text;
  std::optional<double> final_confidence;  // the recognizer's, with a successful final_text
  bool finish_called = false;
  bool final_before_finish = false;
  bool partial_after_final = false;
  std::atomic<int> n_callbacks{0};

  engine::recognizer_events events() {
    return {.on_partial =
                [this](std::string text, double stability) {
                  ++n_callbacks;
                  std::lock_guard lock(m);
                  if (final_text) partial_after_final = true;
                  partials.emplace_back(std::move(text), stability);
                },
            .on_final =
                [this](result<engine::recognized> heard) {
                  ++n_callbacks;
                  std::lock_guard lock(m);
                  if (!finish_called) final_before_finish = true;
                  if (heard) {
                    final_text = std::move(heard->text);
                    final_confidence = heard->confidence;
                  } else {
                    final_text = heard.error();
                  }
                  cv.notify_all();
                }};
  }
  void mark_finish() {
    std::lock_guard lock(m);
    finish_called = true;
  }
  bool wait_final() {
    std::unique_lock lock(m);
    return cv.wait_for(lock, k_wait, [&] { return final_text.has_value(); });
  }
};

void stream_audio(engine::recognizer_stream& s, const std::vector<std::int16_t>& audio, bool paced = false) {
  for (std::size_t k = 0; k < audio.size(); k += 320) {
    s.feed(std::span<const std::int16_t>(audio).subspan(k, std::min<std::size_t>(320, audio.size() - k)));
    if (paced) std::this_thread::sleep_for(5ms);  // faster than real time, slow enough for partials
  }
}

const std::vector<std::string> k_domain = {
    "what's the time", "set a timer for five minutes", "cancel the timer", "what's the weather like",
    "play some zorblax music", "turn on the zorblax lights", "how do i reset my password"};

class pocketsphinx_real : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_model()) return;
    pocketsphinx_config cfg;
    cfg.domain_phrases = k_domain;
    cfg.n_workers = 2;
    cfg.n_decoders = 2;
    cfg.cmn = cmn_mode::running;  // no state between tests: results do not depend on their order
    auto r = pocketsphinx_recognizer::create(cfg);
    ASSERT_TRUE(r) << r.error().describe();
    asr_ = *r;
  }
  static void TearDownTestSuite() { asr_.reset(); }
  void SetUp() override {
    if (!have_model()) GTEST_SKIP() << "pocketsphinx en-us model not installed";
    if (!have_flite()) GTEST_SKIP() << "flite not installed";
  }
  static std::shared_ptr<pocketsphinx_recognizer> asr_;
};
std::shared_ptr<pocketsphinx_recognizer> pocketsphinx_real::asr_;

TEST(pocketsphinx_create, missing_model_is_a_clear_not_found) {
  pocketsphinx_config cfg;
  cfg.model_dir = "/nonexistent/pocketsphinx-model";
  auto r = pocketsphinx_recognizer::create(cfg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::not_found);
  EXPECT_NE(r.error().message.find("/nonexistent/pocketsphinx-model"), std::string::npos) << r.error().message;

  if (!have_model()) return;
  pocketsphinx_config no_lm;
  no_lm.language_model = "missing.lm.bin";
  auto r2 = pocketsphinx_recognizer::create(no_lm);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, errc::not_found);
  EXPECT_NE(r2.error().message.find("missing.lm.bin"), std::string::npos) << r2.error().message;

  pocketsphinx_config bad_weight;
  bad_weight.domain_phrases = {"hello"};
  bad_weight.domain_weight = 1.5;
  auto r3 = pocketsphinx_recognizer::create(bad_weight);
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, errc::invalid_argument);

  for (auto bad_search : {+[](pocketsphinx_config& c) { c.lookahead_frames = -1; },
                          +[](pocketsphinx_config& c) { c.max_hmms_per_frame = 0; },
                          +[](pocketsphinx_config& c) { c.max_words_per_frame = -2; }}) {
    pocketsphinx_config c;
    bad_search(c);
    auto r4 = pocketsphinx_recognizer::create(c);
    ASSERT_FALSE(r4);
    EXPECT_EQ(r4.error().code, errc::invalid_argument) << r4.error().message;
  }

  auto b = pocketsphinx_batch_decoder::create("/nonexistent/pocketsphinx-model");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, errc::not_found);
}

TEST_F(pocketsphinx_real, transcribes_clean_phrases) {
  const std::vector<std::string> phrases = {"what's the time", "set a timer for five minutes",
                                            "how do i reset my password", "tell me about the history of rome"};
  obs::wer_total total;
  for (const auto& p : phrases) {
    const auto audio = speak(p);
    ASSERT_FALSE(audio.empty());
    collected c;
    auto s = asr_->open(c.events());
    ASSERT_TRUE(s);
    stream_audio(**s, audio);
    c.mark_finish();
    (*s)->finish();
    ASSERT_TRUE(c.wait_final());
    ASSERT_TRUE(*c.final_text) << c.final_text->error().describe();
    total.add(obs::word_error_rate(p, **c.final_text));
    // The confidence is the best path's lattice posterior: a probability, given with every final.
    ASSERT_TRUE(c.final_confidence);
    EXPECT_GE(*c.final_confidence, 0.0);
    EXPECT_LE(*c.final_confidence, 1.0);
    std::cout << "  ref: " << p << "\n  hyp: " << **c.final_text << " (confidence " << *c.final_confidence << ")\n";
  }
  // Tolerance: the open question is outside the domain phrases; a couple of words may go wrong.
  EXPECT_LE(total.wer(), 0.25);
}

TEST_F(pocketsphinx_real, partials_come_before_the_final_and_the_final_after_finish) {
  const auto audio = speak("set a timer for five minutes and then cancel the timer");
  ASSERT_FALSE(audio.empty());
  collected c;
  auto s = asr_->open(c.events());
  ASSERT_TRUE(s);
  stream_audio(**s, audio, /*paced=*/true);
  // Decoding is incremental: partials arrive while audio is still being fed, before finish().
  {
    std::unique_lock lock(c.m);
    c.cv.wait_for(lock, 2s, [&] { return !c.partials.empty(); });
    EXPECT_FALSE(c.partials.empty()) << "no partial before finish()";
  }
  c.mark_finish();
  (*s)->finish();
  ASSERT_TRUE(c.wait_final());
  std::lock_guard lock(c.m);
  EXPECT_FALSE(c.final_before_finish);
  EXPECT_FALSE(c.partial_after_final);
  ASSERT_FALSE(c.partials.empty());
  for (const auto& [text, stability] : c.partials) {
    EXPECT_FALSE(text.empty());
    EXPECT_GE(stability, 0.0);
    EXPECT_LE(stability, 1.0);
  }
  EXPECT_TRUE(*c.final_text);
  EXPECT_GT(asr_->stats().n_partials, 0u);
}

TEST_F(pocketsphinx_real, finish_without_audio_gives_an_empty_transcript) {
  collected c;
  auto s = asr_->open(c.events());
  ASSERT_TRUE(s);
  c.mark_finish();
  (*s)->finish();
  ASSERT_TRUE(c.wait_final());
  ASSERT_TRUE(*c.final_text);
  EXPECT_EQ(**c.final_text, "");
}

TEST_F(pocketsphinx_real, cancel_is_a_barrier) {
  const auto audio = speak("turn on the zorblax lights please");
  ASSERT_FALSE(audio.empty());
  for (int round = 0; round < 5; ++round) {
    collected c;
    auto s = asr_->open(c.events());
    ASSERT_TRUE(s);
    stream_audio(**s, audio);
    if (round % 2 == 0) (*s)->finish();  // cancel racing the final
    (*s)->cancel();
    const int after_cancel = c.n_callbacks.load();
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(c.n_callbacks.load(), after_cancel) << "a callback ran after cancel() returned";
    (*s)->feed(std::span<const std::int16_t>(audio).subspan(0, 320));  // ignored
    (*s)->finish();                                                     // ignored
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(c.n_callbacks.load(), after_cancel);
  }
  // Destroying a stream cancels it, and its decoder goes back to the pool: a new stream works.
  {
    collected c;
    auto s = asr_->open(c.events());
    ASSERT_TRUE(s);
    stream_audio(**s, audio);
    s->reset();
  }
  collected c;
  auto s = asr_->open(c.events());
  ASSERT_TRUE(s);
  stream_audio(**s, speak("cancel the timer"));
  (*s)->finish();
  ASSERT_TRUE(c.wait_final());
  EXPECT_TRUE(*c.final_text);
}

TEST_F(pocketsphinx_real, cancel_from_inside_a_callback) {
  const auto audio = speak("what's the weather like");
  collected c;
  std::unique_ptr<engine::recognizer_stream> stream;
  std::atomic<int> n_partials{0};
  auto s = asr_->open({.on_partial =
                           [&](std::string, double) {
                             if (n_partials++ == 0) stream->cancel();  // same thread as the callback
                           },
                       .on_final = [&](result<engine::recognized>) { ++n_partials; }});
  ASSERT_TRUE(s);
  stream = std::move(*s);
  stream_audio(*stream, audio, /*paced=*/true);
  stream->finish();
  std::this_thread::sleep_for(300ms);
  EXPECT_LE(n_partials.load(), 1);
}

TEST_F(pocketsphinx_real, concurrent_streams_from_several_threads) {
  const std::vector<std::string> phrases = {"what's the time", "cancel the timer", "set a timer for five minutes"};
  std::vector<std::vector<std::int16_t>> audio;
  for (const auto& p : phrases) audio.push_back(speak(p));
  for (const auto& a : audio) ASSERT_FALSE(a.empty());
  // More streams than decoders (2): some wait for a decoder, with their audio buffered.
  constexpr int k_threads = 4, k_rounds = 2;
  std::atomic<int> n_ok{0}, n_wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < k_rounds; ++r) {
        const std::size_t i = static_cast<std::size_t>(t + r) % phrases.size();
        collected c;
        auto s = asr_->open(c.events());
        if (!s) return;
        stream_audio(**s, audio[i]);
        (*s)->finish();
        if (!c.wait_final() || !*c.final_text) return;
        const auto w = obs::word_error_rate(phrases[i], **c.final_text);
        (w.wer() <= 0.34 ? n_ok : n_wrong)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(n_ok.load() + n_wrong.load(), k_threads * k_rounds);
  EXPECT_GE(n_ok.load(), k_threads * k_rounds - 1);
  const auto st = asr_->stats();
  EXPECT_GT(st.audio_ms, 0.0);
  EXPECT_GT(st.cpu_ms, 0.0);
  EXPECT_GT(st.rtf(), 0.0);
}

TEST_F(pocketsphinx_real, unknown_domain_words_get_a_pronunciation) {
  const auto& added = asr_->startup().added_words;
  const auto it = std::find_if(added.begin(), added.end(), [](const pronunciation& p) { return p.word == "zorblax"; });
  ASSERT_NE(it, added.end()) << "zorblax is not in cmudict and must have been added";
  EXPECT_TRUE(all_cmu(it->phones)) << it->phones;
  for (const auto& p : added) EXPECT_NE(p.word, "timer") << "a dictionary word was re-added";
  // The word can be recognised (it is in the phrase LM and the dictionary now).
  const auto audio = speak("turn on the zorblax lights");
  collected c;
  auto s = asr_->open(c.events());
  ASSERT_TRUE(s);
  stream_audio(**s, audio);
  (*s)->finish();
  ASSERT_TRUE(c.wait_final());
  ASSERT_TRUE(*c.final_text);
  std::cout << "  hyp: " << **c.final_text << "\n";
  EXPECT_NE(c.final_text->value().find("zorblax"), std::string::npos) << **c.final_text;
}

// --- cepstral mean normalisation: what carries from one utterance to the next ----------------

/// Decodes `audio` as one utterance and returns pocketsphinx's view of the final transcript.
final_detail decode_detail(pocketsphinx_recognizer& asr, const std::vector<std::int16_t>& audio,
                           std::uint64_t channel = 0, bool all_at_once = false, bool paced = false) {
  collected c;
  final_detail detail;
  std::mutex m;
  auto events = c.events();
  events.channel = channel;
  auto s = asr.open(std::move(events), [&](const final_detail& d) {
    std::lock_guard lock(m);
    detail = d;
  });
  EXPECT_TRUE(s);
  if (!s) return detail;
  if (all_at_once) (*s)->feed(audio);
  else stream_audio(**s, audio, paced);
  (*s)->finish();
  EXPECT_TRUE(c.wait_final());
  std::lock_guard lock(m);
  return detail;
}

/// The same speech through another channel: quieter by 12 dB (a different cepstral mean).
std::vector<std::int16_t> quieter(std::vector<std::int16_t> audio) {
  for (auto& s : audio) s = static_cast<std::int16_t>(s / 4);
  return audio;
}

std::shared_ptr<pocketsphinx_recognizer> one_decoder(cmn_mode cmn) {
  pocketsphinx_config cfg;
  cfg.domain_phrases = k_domain;
  cfg.n_workers = 1;
  cfg.n_decoders = 1;  // every utterance reuses the same decoder: any state it keeps shows
  cfg.cmn = cmn;
  auto r = pocketsphinx_recognizer::create(cfg);
  EXPECT_TRUE(r) << r.error().describe();
  return r ? *r : nullptr;
}

// Two utterances through two channels: `a` as spoken, `other` 12 dB quieter.
class pocketsphinx_cmn : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_model()) GTEST_SKIP() << "pocketsphinx en-us model not installed";
    if (!have_flite()) GTEST_SKIP() << "flite not installed";
    a = speak("what's the time");
    other = quieter(speak("set a timer for five minutes"));
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(other.empty());
  }
  std::vector<std::int16_t> a, other;
};

TEST_F(pocketsphinx_cmn, running_mode_carries_nothing_between_utterances) {

  // Each utterance starts from the model's prior, so another session's utterance on the same
  // decoder (a different channel) changes nothing, to the last bit of the path score.
  auto running = one_decoder(cmn_mode::running);
  ASSERT_TRUE(running);
  const auto first = decode_detail(*running, a);
  for (int i = 0; i < 3; ++i) decode_detail(*running, other);
  const auto again = decode_detail(*running, a);
  // Within 2% of the path score: pocketsphinx's fast Gaussian selection keeps a little history
  // inside the decoder that no API resets (measured: 1.5%). The frame count is exact: it shows the
  // front-end's silence detector and noise estimate starting afresh (ps_start_stream).
  const auto close_to = [](const final_detail& x, const final_detail& y) {
    return x.n_frames == y.n_frames &&
           std::abs(static_cast<double>(x.path_score - y.path_score)) <= 0.02 * std::abs(static_cast<double>(x.path_score));
  };
  EXPECT_FALSE(first.text.empty());
  EXPECT_EQ(first.text, again.text);
  EXPECT_TRUE(close_to(first, again)) << "score " << first.path_score << " then " << again.path_score << ", frames "
                                      << first.n_frames << " then " << again.n_frames;

  // Control: pocketsphinx's own behaviour (carried mean and noise estimate) does leak, so the
  // check above can fail.
  auto carry = one_decoder(cmn_mode::carry);
  ASSERT_TRUE(carry);
  const auto carry_first = decode_detail(*carry, a);
  for (int i = 0; i < 3; ++i) decode_detail(*carry, other);
  const auto carry_again = decode_detail(*carry, a);
  EXPECT_FALSE(close_to(carry_first, carry_again))
      << "score " << carry_first.path_score << " then " << carry_again.path_score << ", frames "
      << carry_first.n_frames << " then " << carry_again.n_frames;
}

TEST_F(pocketsphinx_cmn, adaptive_prior_follows_the_channel_and_is_reproducible) {
  // The shared prior moves with completed utterances (so a later decode of the same audio
  // differs), and the same history gives the same result: no dependence on anything else.
  std::vector<std::int64_t> scores;
  for (int run = 0; run < 2; ++run) {
    auto adaptive = one_decoder(cmn_mode::adaptive);
    ASSERT_TRUE(adaptive);
    const auto first = decode_detail(*adaptive, a);
    for (int i = 0; i < 3; ++i) decode_detail(*adaptive, other);
    const auto again = decode_detail(*adaptive, a);
    EXPECT_NE(first.path_score, again.path_score) << "the prior did not adapt";
    scores.push_back(again.path_score);
  }
  EXPECT_EQ(scores[0], scores[1]);
}

TEST_F(pocketsphinx_cmn, a_long_utterance_restarts_from_its_own_mean_unless_its_channel_has_one) {
  const auto long_one = speak("please set a timer for five minutes and then tell me what time it is");
  ASSERT_GT(long_one.size(), static_cast<std::size_t>(ms_to_samples(2000.0)));
  auto running = one_decoder(cmn_mode::running);
  ASSERT_TRUE(running);
  const auto restarted = decode_detail(*running, long_one);
  EXPECT_TRUE(restarted.cmn_restarted);
  EXPECT_NE(restarted.text.find("timer"), std::string::npos) << restarted.text;
  // However the audio arrives (one piece, 20 ms pieces at once or paced), the same words and score.
  const auto at_once = decode_detail(*running, long_one, 0, /*all_at_once=*/true);
  const auto paced = decode_detail(*running, long_one, 0, false, /*paced=*/true);
  EXPECT_EQ(at_once.text, restarted.text);
  EXPECT_EQ(paced.text, restarted.text);
  EXPECT_TRUE(at_once.cmn_restarted && paced.cmn_restarted);
  EXPECT_NEAR(static_cast<double>(at_once.path_score), static_cast<double>(restarted.path_score),
              0.02 * std::abs(static_cast<double>(restarted.path_score)));
  EXPECT_NEAR(static_cast<double>(paced.path_score), static_cast<double>(restarted.path_score),
              0.02 * std::abs(static_cast<double>(restarted.path_score)));
  const auto short_one = speak("yes");
  ASSERT_LT(short_one.size(), static_cast<std::size_t>(ms_to_samples(1500.0)));
  EXPECT_FALSE(decode_detail(*running, short_one).cmn_restarted) << "shorter than cmn_restart_ms";
  // Over 1.5 s only with its trailing silence: the endpoint may be due, so no re-decode then.
  auto then_silence = short_one;
  then_silence.insert(then_silence.end(), static_cast<std::size_t>(ms_to_samples(1000.0)), 0);
  EXPECT_FALSE(decode_detail(*running, then_silence).cmn_restarted) << "restarted in the trailing silence";

  pocketsphinx_config off;
  off.domain_phrases = k_domain;
  off.n_workers = off.n_decoders = 1;
  off.cmn_restart_ms = 0;
  auto never = pocketsphinx_recognizer::create(off);
  ASSERT_TRUE(never);
  const auto kept = decode_detail(**never, long_one);
  EXPECT_FALSE(kept.cmn_restarted);
  EXPECT_NE(kept.path_score, restarted.path_score) << "the restart decoded from another mean";

  // A channel's first utterance restarts; its next ones start from what the first measured.
  auto adaptive = one_decoder(cmn_mode::adaptive);
  ASSERT_TRUE(adaptive);
  EXPECT_TRUE(decode_detail(*adaptive, long_one, 7).cmn_restarted);
  EXPECT_FALSE(decode_detail(*adaptive, long_one, 7).cmn_restarted);
  EXPECT_TRUE(decode_detail(*adaptive, long_one, 8).cmn_restarted) << "another channel";
}

TEST_F(pocketsphinx_cmn, a_channel_keeps_its_own_prior_whatever_other_channels_say) {
  // Channel 1 says `a` twice; in between, channel 2 (another session, another microphone) says
  // something else three times — or nothing. Channel 1's second decode is the same either way:
  // it starts from channel 1's own prior. Without channels (0) the shared prior moves instead.
  const auto second_on_channel_1 = [&](bool other_traffic, std::uint64_t ch1, std::uint64_t ch2) {
    auto asr = one_decoder(cmn_mode::adaptive);
    EXPECT_TRUE(asr);
    decode_detail(*asr, a, ch1);
    if (other_traffic) {
      for (int i = 0; i < 3; ++i) decode_detail(*asr, other, ch2);
    }
    return decode_detail(*asr, a, ch1);
  };
  const auto quiet = second_on_channel_1(false, 1, 2);
  const auto busy = second_on_channel_1(true, 1, 2);
  EXPECT_FALSE(quiet.text.empty());
  EXPECT_EQ(quiet.text, busy.text);
  EXPECT_EQ(quiet.n_frames, busy.n_frames);
  // Within the decoder's own Gaussian-selection history (up to ~1.5 % of the path score, see
  // running_mode_carries_nothing_between_utterances; measured here: 0).
  const auto d_channels = std::abs(static_cast<double>(quiet.path_score - busy.path_score));
  EXPECT_LE(d_channels, 0.02 * std::abs(static_cast<double>(quiet.path_score)))
      << "another channel's utterances changed this channel's decode";
  // Control: with no channels the other utterances move the shared prior, and the decode moves more.
  const auto shared_quiet = second_on_channel_1(false, 0, 0), shared_busy = second_on_channel_1(true, 0, 0);
  EXPECT_GT(std::abs(static_cast<double>(shared_quiet.path_score - shared_busy.path_score)), d_channels);
}

// The stock model, one worker and one decoder (null, with a test failure, when create() fails).
std::shared_ptr<pocketsphinx_recognizer> single_decoder() {
  pocketsphinx_config cfg;
  cfg.n_workers = 1;
  cfg.n_decoders = 1;
  auto r = pocketsphinx_recognizer::create(cfg);
  EXPECT_TRUE(r) << r.error().describe();
  return r ? *r : nullptr;
}

TEST(pocketsphinx_lifetime, streams_outlive_the_recognizer) {
  if (!have_model()) GTEST_SKIP() << "pocketsphinx en-us model not installed";
  auto r = single_decoder();
  ASSERT_TRUE(r);
  collected c;
  auto s = r->open(c.events());
  ASSERT_TRUE(s);
  std::vector<std::int16_t> silence(3200, 0);
  (*s)->feed(silence);
  r.reset();  // the recognizer goes away first
  c.mark_finish();
  (*s)->finish();
  ASSERT_TRUE(c.wait_final());
  ASSERT_FALSE(*c.final_text);
  EXPECT_EQ(c.final_text->error().code, errc::unavailable);
}

TEST(pocketsphinx_load, backlog_is_the_undecoded_audio_of_the_most_behind_waiting_stream) {
  // What overload admission reads (net/overload_gate.hpp): one decoder, so streams opened while
  // it is checked out wait with their audio, and the backlog is the longest of them.
  if (!have_model()) GTEST_SKIP() << "pocketsphinx en-us model not installed";
  auto r = single_decoder();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backlog_ms(), 0.0);
  collected first, second, third;
  auto holder = r->open(first.events());
  ASSERT_TRUE(holder);
  (*holder)->feed(std::vector<std::int16_t>(1600, 0));  // takes the decoder: it keeps it until its final
  for (int i = 0; i < 500 && r->stats().audio_ms < 100.0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(r->stats().audio_ms, 100.0);
  auto a = r->open(second.events());
  auto b = r->open(third.events());
  ASSERT_TRUE(a && b);
  // A worker moving a stream from the ready queue to the waiting list holds it for a moment, and
  // the waiting stream needs a worker turn to catch up: the backlog is read until it settles.
  // The bound is generous (30 s): a sanitizer build sharing two loaded cores once took over 5 s.
  const auto settles_at = [&](double expected) {
    double seen = -1.0;
    for (int i = 0; i < 3000 && seen != expected; ++i) {
      seen = r->backlog_ms().value_or(-1.0);
      if (seen != expected) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return seen;
  };
  (*a)->feed(std::vector<std::int16_t>(16000, 0));      // 1 s
  (*b)->feed(std::vector<std::int16_t>(2 * 16000, 0));  // 2 s
  EXPECT_EQ(settles_at(2000.0), 2000.0);
  (*b)->cancel();
  EXPECT_EQ(settles_at(1000.0), 1000.0) << "a cancelled stream has nothing left to decode";
  (*holder)->cancel();  // the decoder goes to the waiting stream, which catches up
  EXPECT_EQ(settles_at(0.0), 0.0) << "decoded " << r->stats().audio_ms << " ms; " << r->stats().n_waited_for_decoder
                                  << " streams waited; " << r->stats().n_cancelled << " cancelled";
  (*a)->cancel();
}

TEST(pocketsphinx_batch, decodes_a_clip) {
  if (!have_model()) GTEST_SKIP() << "pocketsphinx en-us model not installed";
  if (!have_flite()) GTEST_SKIP() << "flite not installed";
  auto b = pocketsphinx_batch_decoder::create();
  ASSERT_TRUE(b) << b.error().describe();
  const auto audio = speak("what time is it");
  auto r = (*b)->decode(audio);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_LE(obs::word_error_rate("what time is it", r->text).wer(), 0.5) << r->text;
  EXPECT_GT(r->audio_ms, 1000.0);
}

}  // namespace
}  // namespace parley::pocketsphinx
