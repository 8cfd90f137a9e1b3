// Whole sessions with budgets and fillers (mock engines, scripted chat models, a real fallback
// chain): a slow first token plays a filler that the reply cuts at a word boundary without any
// overlap; a fast one plays none; an interrupt clears it; long tool calls announce themselves;
// hedges and fallbacks reach the turn timeline. Order and counts only: never absolute timings.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "filler_test_util.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/waterfall.hpp"
#include "parley/routing/fallback_chain.hpp"

namespace parley::agent {
namespace {

using namespace testing;

// A chat model that plays a script: after each step's delay, its action on the events (tokens,
// progress). Ends with success after the last step; a stop ends it with cancelled at once.
struct script_step {
  double delay_ms = 0.0;
  std::function<void(engine::chat_events&)> act;
};

class scripted_model final : public engine::chat_model {
 public:
  scripted_model(boost::asio::any_io_executor ex, std::vector<script_step> steps, status end = {})
      : ex_(std::move(ex)), steps_(std::move(steps)), end_(std::move(end)) {}
  std::string name() const override { return "scripted"; }
  engine::chat_caps caps() const override { return {}; }
  void stream(engine::chat_request, engine::chat_events events, std::stop_token stop) override {
    auto j = std::make_shared<job>(ex_, steps_, end_, std::move(events), std::move(stop));
    job::next(j);
  }

 private:
  struct job {
    job(boost::asio::any_io_executor ex, std::vector<script_step> s, status e, engine::chat_events ev, std::stop_token st)
        : timer(boost::asio::make_strand(ex)), steps(std::move(s)), end(std::move(e)), events(std::move(ev)), stop(std::move(st)) {}
    boost::asio::steady_timer timer;
    std::vector<script_step> steps;
    status end;
    engine::chat_events events;
    std::stop_token stop;
    std::size_t i = 0;

    static void next(const std::shared_ptr<job>& j) {
      if (j->i == j->steps.size()) return j->events.on_done(j->end);
      j->timer.expires_after(from_ms(j->steps[j->i].delay_ms));
      j->timer.async_wait([j](const boost::system::error_code&) {
        if (j->stop.stop_requested()) return j->events.on_done(make_error(errc::cancelled, "cancelled"));
        j->steps[j->i++].act(j->events);
        next(j);
      });
    }
  };
  boost::asio::any_io_executor ex_;
  std::vector<script_step> steps_;
  status end_;
};

script_step token(double delay_ms, std::string text) {
  return {delay_ms, [text](engine::chat_events& e) { e.on_token(text); }};
}
script_step progress(double delay_ms, engine::chat_progress::kind what, std::string name) {
  return {delay_ms, [what, name](engine::chat_events& e) {
            if (e.on_progress) e.on_progress({.what = what, .name = name});
          }};
}

struct engines_under_test {
  std::shared_ptr<mock::mock_recognizer> asr;
  std::shared_ptr<engine::chat_model> llm;
  std::shared_ptr<mock::mock_synthesizer> tts;
};

engines_under_test with_llm(boost::asio::any_io_executor ex, std::shared_ptr<engine::chat_model> llm) {
  return {std::make_shared<mock::mock_recognizer>(mock::recognizer_config{.executor = ex}), std::move(llm),
          std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{.executor = ex})};
}

std::shared_ptr<engine::chat_model> mock_llm(boost::asio::any_io_executor ex, double ttft_ms) {
  return std::make_shared<mock::mock_chat_model>(
      mock::chat_config{.executor = ex, .profile = {"test", mock::latency_dist::fixed(ttft_ms), 400.0, 0.0}});
}

std::unique_ptr<session> make_session(boost::asio::any_io_executor ex, const engines_under_test& e, recorder& rec,
                                      latency_budgets budgets, pipeline_mode mode = pipeline_mode::streaming,
                                      std::shared_ptr<const filler_bank> bank = test_bank()) {
  session_options options;
  options.mode = mode;
  options.budgets = budgets;
  options.filler_bank = std::move(bank);
  auto s = session::create(ex, {e.asr, e.llm, e.tts}, options, rec.callbacks());
  EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  return s ? std::move(*s) : nullptr;
}

obs::turn_timeline one_turn(recorder& rec) {
  std::lock_guard lock(rec.mutex);
  EXPECT_EQ(rec.turns.size(), 1u);
  return rec.turns.empty() ? obs::turn_timeline{} : rec.turns[0];
}

// The filler's chunks all come before the reply's first, which is flagged first; none after it.
void expect_filler_then_reply(recorder& rec, const obs::turn_timeline& t) {
  const auto audio = split_audio(rec);
  ASSERT_FALSE(audio.filler.empty()) << "no filler audio";
  ASSERT_FALSE(audio.reply.empty()) << "no reply audio";
  EXPECT_LT(audio.filler.back(), audio.reply.front()) << "a filler word left after the reply started";
  EXPECT_EQ(audio.first_reply_flagged, audio.reply.front()) << "the reply's first chunk is flagged, not the filler's";
  const auto words = note_value(t, obs::note_name::filler_words);
  ASSERT_TRUE(words);
  EXPECT_EQ(std::get<double>(*words), static_cast<double>(audio.filler.size())) << "one chunk per word";
  // The filler heard is whole words: t_filler_end − t_filler_start is exactly that many words.
  const auto heard = t.span_ms(obs::stamp::filler_start, obs::stamp::filler_end);
  ASSERT_TRUE(heard);
  EXPECT_NEAR(*heard, 300.0 * static_cast<double>(audio.filler.size()), 0.01);
  // Reply audio is counted without the filler.
  std::int64_t n_reply = 0;
  {
    std::lock_guard lock(rec.mutex);
    for (auto i : audio.reply) n_reply += static_cast<std::int64_t>(std::get<output_audio_chunk>(rec.events[i].body).samples.size());
  }
  EXPECT_EQ(t.n_output_samples, n_reply);
}

TEST(session_fillers, a_slow_first_token_plays_a_filler_that_the_reply_cuts_at_a_word_boundary) {
  io_threads io;
  auto e = with_llm(io.executor(), mock_llm(io.executor(), 400));
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 100});
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  expect_filler_then_reply(rec, t);

  EXPECT_TRUE(t.flags.filler);
  EXPECT_FALSE(t.flags.interrupted);
  EXPECT_EQ(t.reply, mock::default_mock_reply("what time is it"));
  EXPECT_EQ(note_strings(t, obs::note_name::budget_breach), std::vector<std::string>{"llm_ttft"});
  EXPECT_EQ(note_strings(t, obs::note_name::filler), std::vector<std::string>{"One moment please while I look."});
  EXPECT_EQ(note_strings(t, obs::note_name::filler_cut), std::vector<std::string>{"reply"});
  EXPECT_LT(std::get<double>(*note_value(t, obs::note_name::filler_words)), 10.0) << "cut before its last word";
  // Stamp order: request, the filler, then the first token and the reply's audio.
  EXPECT_LT(*t.at(obs::stamp::llm_request), *t.at(obs::stamp::filler_start));
  EXPECT_LT(*t.at(obs::stamp::filler_start), *t.at(obs::stamp::llm_first_token));
  EXPECT_LT(*t.at(obs::stamp::filler_start), *t.at(obs::stamp::first_audio_out));
  ASSERT_TRUE(t.value(obs::metric::llm_ttft));
  EXPECT_GT(*t.value(obs::metric::llm_ttft), 100.0) << "a breach means the first token came after the budget";

  // The trace and the waterfall show it.
  const auto j = obs::to_json(t);
  EXPECT_TRUE(j["flags"]["filler"].get<bool>());
  EXPECT_TRUE(j["stamps_ms"]["t_filler_start"].is_number());
  EXPECT_TRUE(j["stamps_ms"]["t_filler_end"].is_number());
  const auto picture = obs::render_waterfall(t);
  EXPECT_NE(picture.find("\nfiller "), std::string::npos) << picture;
  EXPECT_NE(picture.find("· filler"), std::string::npos) << picture;
}

TEST(session_fillers, a_fast_first_token_plays_no_filler) {
  io_threads io;
  auto e = with_llm(io.executor(), mock_llm(io.executor(), 5));
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 800});
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  EXPECT_TRUE(split_audio(rec).filler.empty());
  EXPECT_FALSE(split_audio(rec).reply.empty());
  EXPECT_FALSE(t.flags.filler);
  EXPECT_FALSE(t.has(obs::stamp::filler_start));
  EXPECT_FALSE(t.has(obs::stamp::filler_end));
  EXPECT_FALSE(t.has_note(obs::note_name::budget_breach));
  EXPECT_FALSE(t.has_note(obs::note_name::filler));
}

TEST(session_fillers, without_a_filler_bank_a_breach_is_still_noted) {
  io_threads io;
  auto e = with_llm(io.executor(), mock_llm(io.executor(), 300));
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 50}, pipeline_mode::streaming, nullptr);
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  EXPECT_TRUE(split_audio(rec).filler.empty());
  EXPECT_FALSE(t.flags.filler);
  EXPECT_EQ(note_strings(t, obs::note_name::budget_breach), std::vector<std::string>{"llm_ttft"});
}

TEST(session_fillers, sequential_mode_cuts_the_filler_the_same_way) {
  io_threads io;
  auto e = with_llm(io.executor(), mock_llm(io.executor(), 300));
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 100}, pipeline_mode::sequential);
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  expect_filler_then_reply(rec, t);
  EXPECT_TRUE(t.flags.filler);
}

TEST(session_fillers, an_interrupt_during_the_filler_clears_it_like_any_reply_audio) {
  io_threads io;
  auto e = with_llm(io.executor(), mock_llm(io.executor(), 5000));
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 50});
  s->submit_text("what time is it");
  ASSERT_TRUE(rec.wait_for([&] {
    return std::any_of(rec.events.begin(), rec.events.end(),
                       [](const event& ev) { return std::holds_alternative<output_audio_chunk>(ev.body); });
  })) << "the filler never started";
  s->interrupt("barge_in");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());

  const auto interrupted = first_index<interrupt_event>(rec);
  ASSERT_NE(interrupted, SIZE_MAX);
  const auto audio = split_audio(rec);
  EXPECT_TRUE(audio.reply.empty());
  ASSERT_FALSE(audio.filler.empty());
  EXPECT_LT(audio.filler.back(), interrupted) << "no filler word after the interrupt";
  const auto t = one_turn(rec);
  EXPECT_TRUE(t.flags.filler);
  EXPECT_TRUE(t.flags.interrupted);
  EXPECT_EQ(note_strings(t, obs::note_name::filler_cut), std::vector<std::string>{"interrupted"});
  ASSERT_TRUE(t.has(obs::stamp::filler_end));
  EXPECT_LE(*t.at(obs::stamp::filler_end), *t.at(obs::stamp::reply_done)) << "the client cleared the rest";
  EXPECT_EQ(t.reply, "");
}

TEST(session_fillers, a_long_tool_call_announces_itself) {
  io_threads io;
  using kind = engine::chat_progress::kind;
  auto llm = std::make_shared<scripted_model>(
      io.executor(), std::vector<script_step>{progress(0, kind::tool_started, "lookup_order"),
                                              progress(500, kind::tool_finished, "lookup_order"),
                                              token(0, "Your order ships today.")});
  auto e = with_llm(io.executor(), llm);
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 0, .tool_call_ms = 100});
  s->submit_text("where is my order");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  expect_filler_then_reply(rec, t);
  EXPECT_EQ(note_strings(t, obs::note_name::budget_breach), std::vector<std::string>{"tool_call"});
  EXPECT_EQ(note_strings(t, obs::note_name::filler), std::vector<std::string>{"Let me check that for you."});
  EXPECT_EQ(note_strings(t, obs::note_name::tool_call), std::vector<std::string>{"lookup_order"});
  EXPECT_EQ(t.reply, "Your order ships today.");
}

TEST(session_fillers, never_a_filler_once_the_reply_is_speaking) {
  io_threads io;
  using kind = engine::chat_progress::kind;
  // The model speaks a sentence at once, then runs a long tool: the breach is noted, no filler.
  auto llm = std::make_shared<scripted_model>(
      io.executor(), std::vector<script_step>{token(0, "Let me look that up for you. "), token(0, "Hang on,"),
                                              progress(150, kind::tool_started, "lookup_order"),
                                              progress(400, kind::tool_finished, "lookup_order"),
                                              token(0, "It ships today.")});
  auto e = with_llm(io.executor(), llm);
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {.llm_ttft_ms = 800, .tool_call_ms = 100});
  s->submit_text("where is my order");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  EXPECT_TRUE(split_audio(rec).filler.empty());
  EXPECT_FALSE(t.flags.filler);
  EXPECT_EQ(note_strings(t, obs::note_name::budget_breach), std::vector<std::string>{"tool_call"});
  EXPECT_LT(*t.at(obs::stamp::first_audio_out), *t.at(obs::stamp::reply_done));
}

// ---- hedge and fallback, through a real fallback chain of fake providers --------------------------

std::shared_ptr<routing::fallback_chain> chain_of(boost::asio::any_io_executor ex, routing::hedge_policy hedge,
                                                  std::shared_ptr<engine::chat_model> primary,
                                                  std::shared_ptr<engine::chat_model> secondary) {
  auto chain = routing::fallback_chain::create(
      routing::fallback_chain_config{.executor = ex, .hedge = hedge},
      std::vector<routing::chain_provider>{{"primary", std::move(primary), nullptr}, {"secondary", std::move(secondary), nullptr}});
  EXPECT_TRUE(chain) << (chain ? "" : chain.error().describe());
  return chain ? *chain : nullptr;
}

TEST(session_chain, a_hedge_and_the_provider_that_won_reach_the_timeline) {
  io_threads io;
  auto chain = chain_of(io.executor(), {.mode = routing::hedge_mode::fixed, .delay_ms = 50},
                        mock_llm(io.executor(), 5000), mock_llm(io.executor(), 5));
  auto e = with_llm(io.executor(), chain);
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {});
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  EXPECT_TRUE(t.flags.hedge);
  EXPECT_FALSE(t.flags.fallback);
  EXPECT_EQ(note_strings(t, obs::note_name::hedge_to), std::vector<std::string>{"secondary"});
  EXPECT_EQ(note_strings(t, obs::note_name::llm_provider), std::vector<std::string>{"secondary"});
  ASSERT_TRUE(note_value(t, obs::note_name::hedge_won));
  EXPECT_EQ(std::get<double>(*note_value(t, obs::note_name::hedge_won)), 1.0);
  EXPECT_EQ(t.reply, mock::default_mock_reply("what time is it"));
  const auto j = obs::to_json(t);
  EXPECT_TRUE(j["flags"]["hedge"].get<bool>());
}

TEST(session_chain, a_fallback_reaches_the_timeline) {
  io_threads io;
  auto down = std::make_shared<scripted_model>(io.executor(), std::vector<script_step>{},
                                               make_error(errc::unavailable, "connection refused"));
  auto chain = chain_of(io.executor(), {}, down, mock_llm(io.executor(), 5));
  auto e = with_llm(io.executor(), chain);
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {});
  s->submit_text("what time is it");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  EXPECT_TRUE(t.flags.fallback);
  EXPECT_FALSE(t.flags.hedge);
  EXPECT_EQ(note_strings(t, obs::note_name::fallback_to), std::vector<std::string>{"secondary"});
  EXPECT_EQ(note_strings(t, obs::note_name::llm_provider), std::vector<std::string>{"secondary"});
  EXPECT_FALSE(note_value(t, obs::note_name::hedge_won)) << "no hedge, no hedge_won";
  EXPECT_EQ(t.reply, mock::default_mock_reply("what time is it"));
}

TEST(session_chain, progress_of_a_fake_chain_maps_onto_flags_and_notes) {
  io_threads io;
  using kind = engine::chat_progress::kind;
  // A stand-in for any chain: it reports a fallback, then a hedge the hedge won, then text.
  auto llm = std::make_shared<scripted_model>(
      io.executor(), std::vector<script_step>{progress(0, kind::fallback, "b"), progress(0, kind::hedge, "c"),
                                              token(0, "Hi there."),
                                              {0, [](engine::chat_events& ev) {
                                                 ev.on_progress({.what = kind::served, .name = "c", .hedge_won = true});
                                               }}});
  auto e = with_llm(io.executor(), llm);
  recorder rec;
  auto s = make_session(io.executor(), e, rec, {});
  s->submit_text("hello");
  s->end_input();
  ASSERT_TRUE(rec.wait_end());
  const auto t = one_turn(rec);
  EXPECT_TRUE(t.flags.fallback);
  EXPECT_TRUE(t.flags.hedge);
  EXPECT_EQ(note_strings(t, obs::note_name::fallback_to), std::vector<std::string>{"b"});
  EXPECT_EQ(note_strings(t, obs::note_name::hedge_to), std::vector<std::string>{"c"});
  EXPECT_EQ(note_strings(t, obs::note_name::llm_provider), std::vector<std::string>{"c"});
  EXPECT_EQ(std::get<double>(*note_value(t, obs::note_name::hedge_won)), 1.0);
}

TEST(session_fillers, a_filler_bank_at_another_rate_is_rejected) {
  io_threads io;
  auto e = with_llm(io.executor(), mock_llm(io.executor(), 5));
  auto bank = std::make_shared<const filler_bank>(filler_bank{constant_clip("a b", 2, 100, 8000), constant_clip("c d", 2, 100, 8000)});
  session_options options;
  options.filler_bank = bank;
  recorder rec;
  auto s = session::create(io.executor(), {e.asr, e.llm, e.tts}, options, rec.callbacks());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::invalid_argument);
  options.filler_bank = nullptr;
  options.budgets.llm_ttft_ms = -5;
  EXPECT_FALSE(session::create(io.executor(), {e.asr, e.llm, e.tts}, options, rec.callbacks()));
}

}  // namespace
}  // namespace parley::agent
