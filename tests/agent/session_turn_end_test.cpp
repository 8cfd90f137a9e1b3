// Content-aware endpointing in the session (issue 17): with session_options::turn_end the silence
// that ends a turn follows the partial transcript and the router's confidence, so an unfinished
// request keeps its turn through a pause that the fixed silence cuts, and a complete one ends
// after the policy's short silence. Audio is pushed faster than real time: endpointing runs on
// media time, so nothing here depends on the machine's speed.
#include "session_test_util.hpp"

namespace parley::agent {
namespace {

using namespace testing;

// A router that only knows how sure it is that a text is a complete request; it answers every
// turn with one fixed sentence.
class confident_router final : public reply_router {
 public:
  explicit confident_router(double p) : p_(p) {}
  void route(route_request, std::function<void(routed_reply)> done) override {
    routed_reply r;
    r.route = "intent";
    r.text = "Okay.";
    done(std::move(r));
  }
  void remember(std::string, std::string, std::shared_ptr<const reply_audio>) override {}
  std::optional<double> request_confidence(std::string_view text, session_id) const override {
    return text.empty() ? 0.0 : p_;
  }

 private:
  double p_;
};

struct outcome {
  std::vector<std::string> committed;
  std::vector<obs::turn_timeline> turns;
};

// Speech, then — once the partial was handled — the rest of the script.
outcome run(const std::string& partial, const std::string& final_text,
            std::initializer_list<std::pair<char, double>> speech, std::initializer_list<std::pair<char, double>> rest,
            std::optional<turn_end_config> turn_end, std::shared_ptr<reply_router> router = nullptr) {
  io_threads io;
  auto engines = make_engines(io.executor());
  auto asr = std::make_shared<scripted_asr>(partial, final_text, 800.0);
  session_recorder rec;
  session_options options;
  options.turn_end = turn_end;
  options.router = std::move(router);
  options.input_queue_chunks = 100'000;
  auto s = session::create(io.executor(), {asr, engines.llm, engines.tts}, options, rec.callbacks());
  EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  if (!s) return {};
  push_in_frames(**s, script_audio(speech));
  EXPECT_TRUE(rec.wait_for([&] { return rec.has_locked<transcript_partial>(); })) << "no partial";
  push_in_frames(**s, script_audio(rest));
  (*s)->end_input();
  EXPECT_TRUE(rec.wait_end()) << "the session never ended";
  (*s)->close();
  outcome out;
  out.committed = rec.committed_texts();
  std::lock_guard lock(rec.mutex);
  out.turns = rec.turns;
  return out;
}

const auto k_conversational = turn_end_config::preset(turn_taking::conversational);

const auto k_speech = {std::pair{'.', 500.0}, std::pair{'S', 1200.0}};

TEST(session_turn_end, an_unfinished_request_keeps_its_turn_through_a_pause_the_fixed_silence_cuts) {
  // "could you tell me the weather for the | ..." — 700 ms of silence after an article.
  const std::string partial = "could you tell me the weather for the";
  const auto rest = {std::pair{'.', 700.0}, std::pair{'S', 800.0}, std::pair{'.', 1600.0}};
  const auto fixed = run(partial, partial + " weekend", k_speech, rest, std::nullopt);
  EXPECT_EQ(fixed.committed.size(), 2u) << "400 ms of silence ends the turn in the 700 ms pause";
  const auto aware = run(partial, partial + " weekend", k_speech, rest, k_conversational);
  ASSERT_EQ(aware.committed.size(), 1u) << "the words so far end on an article: the turn waits";
  ASSERT_EQ(aware.turns.size(), 1u);
  EXPECT_EQ(aware.turns[0].note_number(obs::note_name::turn_end_silence_ms), k_conversational.unfinished_silence_ms);
  ASSERT_NE(aware.turns[0].note_text(obs::note_name::turn_end_rule), nullptr);
  EXPECT_EQ(*aware.turns[0].note_text(obs::note_name::turn_end_rule), "article");
}

TEST(session_turn_end, a_complete_request_ends_after_the_short_silence) {
  const auto rest = {std::pair{'.', 1000.0}};
  const auto r = run("what time is it", "what time is it", k_speech, rest, k_conversational,
                     std::make_shared<confident_router>(0.95));
  ASSERT_EQ(r.turns.size(), 1u);
  EXPECT_EQ(r.turns[0].note_number(obs::note_name::turn_end_silence_ms), k_conversational.complete_silence_ms);
  ASSERT_NE(r.turns[0].note_text(obs::note_name::turn_end_rule), nullptr);
  EXPECT_EQ(*r.turns[0].note_text(obs::note_name::turn_end_rule), "responder");
  // Without the router's confidence the text rules alone do not call it complete: more silence.
  const auto alone = run("what time is it", "what time is it", k_speech, rest, k_conversational);
  ASSERT_EQ(alone.turns.size(), 1u);
  EXPECT_GT(alone.turns[0].note_number(obs::note_name::turn_end_silence_ms), k_conversational.complete_silence_ms);
}

TEST(session_turn_end, off_by_default_and_then_no_notes) {
  const auto r = run("what time is it", "what time is it", k_speech, {std::pair{'.', 1000.0}}, std::nullopt);
  ASSERT_EQ(r.turns.size(), 1u);
  EXPECT_FALSE(r.turns[0].note_number(obs::note_name::turn_end_silence_ms));
}

TEST(session_turn_end, an_invalid_policy_is_refused) {
  io_threads io;
  auto engines = make_engines(io.executor());
  session_recorder rec;
  session_options options;
  options.turn_end = k_conversational;
  options.turn_end->unfinished_silence_ms = 100.0;  // below the complete silence
  EXPECT_FALSE(session::create(io.executor(), engines.set(), options, rec.callbacks()));
}

}  // namespace
}  // namespace parley::agent
