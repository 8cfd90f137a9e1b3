// Merged turns and false-interruption resume (issue 17, parts 3 and 4), on scripted timelines.
//
// Merged turns: speech that resumes within turn_end_config::merge_window_ms of an endpoint, while
// the reply to that turn has been heard for at most merge_max_heard_ms, continues the turn: the
// reply is withdrawn and the whole utterance is answered as one turn. False interruptions: speech
// that cut a reply but held no request ("", "uh huh") lets the reply go on from the first word not
// heard. Audio is pushed faster than real time; the merge window runs on media time, and what was
// heard comes from explicit playout reports, so nothing here depends on the machine's speed.
#include <gtest/gtest.h>

#include <mutex>

#include "session_test_util.hpp"

namespace parley::agent {
namespace {

using namespace testing;

// The mock voice speaks 62 ms a character at 16 kHz (mock_synthesizer), at least 250 ms a segment.
std::uint64_t mock_samples(const std::string& text) {
  return static_cast<std::uint64_t>(std::max(250.0, 62.0 * static_cast<double>(text.size())) * 16.0);
}

// Every turn ends after 350 ms of silence, whatever its words, so the script alone decides where
// a turn ends; merging as in the conversational preset.
turn_end_config flat_350() {
  turn_end_config c = turn_end_config::preset(turn_taking::conversational);
  c.complete_silence_ms = c.default_silence_ms = c.unfinished_silence_ms = 350.0;
  return c;
}

struct fixture {
  io_threads io;
  std::mutex m;
  std::vector<engine::chat_request> requests;  // what the model was asked, in order
  mock_set engines;
  session_recorder rec;
  std::unique_ptr<session> s;

  fixture(std::vector<std::string> transcripts, std::vector<std::string> replies, std::optional<turn_end_config> turn_end,
          bool barge_in = false, std::vector<double> finalize_ms = {}, bool transcribe_only = false) {
    engine_knobs knobs;
    knobs.transcripts = std::move(transcripts);
    knobs.finalize_ms = std::move(finalize_ms);
    knobs.reply = [this, replies](const engine::chat_request& r) {
      std::lock_guard lock(m);
      requests.push_back(r);
      return replies.at(std::min(requests.size(), replies.size()) - 1);
    };
    engines = make_engines(io.executor(), knobs);
    session_options options;
    options.input_queue_chunks = 100'000;
    options.turn_end = turn_end;
    options.transcribe_only = transcribe_only;
    options.barge_in = {.enabled = barge_in, .min_speech_ms = 200, .playout_slack_ms = 0};
    auto created = session::create(io.executor(), engines.set(), options, rec.callbacks());
    EXPECT_TRUE(created) << (created ? "" : created.error().describe());
    s = std::move(*created);
  }

  void push(std::initializer_list<std::pair<char, double>> script) { push_in_frames(*s, script_audio(script)); }

  // The generation of the first reply that sent audio (waits for it).
  generation_id first_reply_audio() {
    EXPECT_TRUE(rec.wait_for([&] { return rec.has_locked<output_audio_chunk>(); })) << "no reply audio";
    return rec.at(rec.first<output_audio_chunk>()).env.generation;
  }

  std::vector<std::string> interrupt_reasons() {
    std::vector<std::string> out;
    for (const auto i : rec.indices<interrupt_event>()) out.push_back(std::get<interrupt_event>(rec.at(i).body).reason);
    return out;
  }

  void finish() {
    s->end_input();
    ASSERT_TRUE(rec.wait_end()) << "the session never ended";
    s->close();
  }
};

const auto k_first_half = {std::pair{'.', 300.0}, std::pair{'S', 900.0}, std::pair{'.', 700.0}};  // a 700 ms pause
const auto k_second_half = {std::pair{'S', 700.0}, std::pair{'.', 1500.0}};

TEST(session_merge, a_pause_while_the_first_half_is_still_being_transcribed_merges_the_halves) {
  // The first half's transcript is slow: the speech resumes while the turn waits for it.
  fixture f({"set a timer for", "ten minutes"}, {"Timer set."}, flat_350(), false, {300.0, 0.0});
  f.push(k_first_half);
  f.push(k_second_half);
  f.finish();
  EXPECT_EQ(f.rec.committed_texts(), std::vector<std::string>{"set a timer for ten minutes"});
  EXPECT_TRUE(f.interrupt_reasons().empty()) << "nothing was said yet: nothing to withdraw";
  ASSERT_EQ(f.rec.turns.size(), 1u) << "one turn, the merged one";
  EXPECT_EQ(f.rec.turns[0].transcript, "set a timer for ten minutes");
  EXPECT_EQ(f.rec.turns[0].note_number(obs::note_name::merged_with), 1.0);
  EXPECT_EQ(f.rec.indices<transcript_final>().size(), 2u) << "each utterance's own transcript is still reported";
  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 1u);
  ASSERT_EQ(f.requests[0].messages.size(), 2u);  // system, the whole request
  EXPECT_EQ(f.requests[0].messages[1].content, "set a timer for ten minutes");
  EXPECT_EQ(f.s->stats().n_merged, 1u);
}

TEST(session_merge, a_transcription_only_session_reports_each_turn_merges_none_and_answers_none) {
  // As above, but nothing answers: each utterance is its own transcribed turn (the slow first
  // transcript would have merged them), and no model is asked.
  fixture f({"set a timer for", "ten minutes"}, {"Timer set."}, flat_350(), false, {300.0, 0.0}, /*transcribe_only=*/true);
  f.push(k_first_half);
  f.push(k_second_half);
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.turns.size() == 2; }));
  f.s->submit_text("and the weather");
  f.finish();
  EXPECT_EQ(f.rec.committed_texts(), (std::vector<std::string>{"set a timer for", "ten minutes", "and the weather"}));
  EXPECT_EQ(f.rec.indices<transcript_final>().size(), 2u);
  ASSERT_EQ(f.rec.turns.size(), 3u);
  for (const auto& t : f.rec.turns) EXPECT_EQ(t.route, "none");
  EXPECT_TRUE(f.rec.indices<output_audio_chunk>().empty());
  EXPECT_TRUE(f.rec.indices<reply_done>().empty());
  EXPECT_TRUE(f.requests.empty()) << "the model was asked " << f.requests.size() << " times";
}

TEST(session_merge, a_reply_barely_heard_is_withdrawn_and_history_holds_the_whole_request_only) {
  fixture f({"what is the weather", "in paris tomorrow"},
            {"The weather is fine today and all week long.", "Paris will be sunny."}, flat_350());
  f.push(k_first_half);
  const generation_id first = f.first_reply_audio();
  f.s->on_playout(first, mock_samples("The weather") / 2);  // the listener heard ~340 ms of it
  f.push(k_second_half);
  f.finish();

  EXPECT_EQ(f.rec.committed_texts(),
            (std::vector<std::string>{"what is the weather", "what is the weather in paris tomorrow"}));
  ASSERT_EQ(f.interrupt_reasons(), std::vector<std::string>{"merged"});
  const auto cut = f.rec.indices<interrupt_event>()[0];
  EXPECT_EQ(f.rec.at(cut).env.generation, first);
  EXPECT_LT(cut, f.rec.last<user_turn_committed>()) << "withdrawn as the speech resumed, before the merged turn";
  ASSERT_EQ(f.rec.turns.size(), 1u) << "the withdrawn turn completes as part of the merged one";
  EXPECT_EQ(f.rec.turns[0].transcript, "what is the weather in paris tomorrow");
  EXPECT_EQ(f.rec.turns[0].reply, "Paris will be sunny.");
  EXPECT_GT(f.rec.turns[0].note_number(obs::note_name::merged_heard_ms).value_or(0.0), 0.0);
  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 2u);
  const auto& history = f.requests[1].messages;
  ASSERT_EQ(history.size(), 2u) << "neither the first half nor its withdrawn reply stays in history";
  EXPECT_EQ(history[1].content, "what is the weather in paris tomorrow");
}

TEST(session_merge, a_reply_heard_longer_than_the_limit_is_not_withdrawn) {
  fixture f({"what is the weather", "in paris tomorrow"}, {"The weather is fine today and all week long.", "Sunny."},
            flat_350());
  f.push(k_first_half);
  const generation_id first = f.first_reply_audio();
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  f.s->on_playout(first, 16 * 1000);  // one second heard, past the 600 ms limit
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.turns.size() == 1; })) << "no merge possible: the turn completes";
  f.push(k_second_half);
  f.finish();
  EXPECT_EQ(f.rec.committed_texts(), (std::vector<std::string>{"what is the weather", "in paris tomorrow"}));
  EXPECT_TRUE(f.interrupt_reasons().empty());
  EXPECT_EQ(f.rec.turns.size(), 2u);
  EXPECT_EQ(f.s->stats().n_merged, 0u);
}

TEST(session_merge, speech_after_the_window_is_a_turn_of_its_own) {
  fixture f({"what is the weather", "in paris tomorrow"}, {"Fine.", "Sunny."}, flat_350());
  // Endpoint 350 ms into the silence; the speech resumes 1150 ms later, past the 1000 ms window.
  f.push({{'.', 300.0}, {'S', 900.0}, {'.', 1500.0}});
  f.push(k_second_half);
  f.finish();
  EXPECT_EQ(f.rec.committed_texts(), (std::vector<std::string>{"what is the weather", "in paris tomorrow"}));
  EXPECT_EQ(f.rec.turns.size(), 2u);
}

TEST(session_merge, off_without_content_aware_endpointing_or_with_a_zero_window) {
  for (auto turn_end : {std::optional<turn_end_config>{}, std::optional<turn_end_config>{flat_350()}}) {
    if (turn_end) turn_end->merge_window_ms = 0.0;
    fixture f({"set a timer for", "ten minutes"}, {"Okay."}, turn_end, false, {300.0, 0.0});
    f.push(k_first_half);
    f.push(k_second_half);
    f.finish();
    EXPECT_EQ(f.rec.committed_texts(), (std::vector<std::string>{"set a timer for", "ten minutes"}));
  }
}

TEST(session_merge, resumed_speech_with_no_words_answers_the_first_half_alone) {
  // A noise in the window holds the first turn back; it is then answered on its own, once.
  fixture f({"what time is it", ""}, {"It is noon."}, flat_350(), false, {300.0, 0.0});
  f.push(k_first_half);
  f.push(k_second_half);
  f.finish();
  EXPECT_EQ(f.rec.committed_texts(), std::vector<std::string>{"what time is it"});
  ASSERT_EQ(f.rec.turns.size(), 1u);
  EXPECT_EQ(f.rec.turns[0].reply, "It is noon.");
}

// ---- false interruptions ------------------------------------------------------------------------

const std::string k_long_reply = "The store opens at nine. On Sundays it opens at ten in the morning.";

TEST(session_resume, a_backchannel_over_a_reply_resumes_it_from_the_first_word_not_heard) {
  fixture f({"when do you open", "uh huh"}, {k_long_reply}, std::nullopt, true);
  f.push(k_one_question);
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  const generation_id gen = f.rec.at(f.rec.first<reply_done>()).env.generation;
  f.s->on_playout(gen, mock_samples("The store opens at nine."));  // the first sentence was heard
  f.push({{'S', 600.0}, {'.', 1000.0}});                             // "uh huh" over the second
  f.finish();

  ASSERT_EQ(f.interrupt_reasons(), std::vector<std::string>{"barge_in"});
  EXPECT_EQ(f.rec.committed_texts(), std::vector<std::string>{"when do you open"}) << "a backchannel is no request";
  ASSERT_EQ(f.rec.turns.size(), 2u);
  EXPECT_EQ(f.rec.turns[1].route, "resume");
  EXPECT_EQ(f.rec.turns[1].reply, "On Sundays it opens at ten in the morning.");
  EXPECT_TRUE(f.rec.turns[1].note_number(obs::note_name::resumed_after_ms).has_value());
  EXPECT_EQ(f.s->stats().n_resumed, 1u);
  std::lock_guard lock(f.m);
  EXPECT_EQ(f.requests.size(), 1u) << "the resumed words need no model";
}

TEST(session_resume, history_keeps_one_message_with_the_words_heard_before_and_after_the_cut) {
  fixture f({"when do you open", "", "and on holidays"}, {k_long_reply, "Closed."}, std::nullopt, true);
  f.push(k_one_question);
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  const generation_id gen = f.rec.at(f.rec.first<reply_done>()).env.generation;
  f.s->on_playout(gen, mock_samples("The store opens at nine."));
  f.push({{'S', 600.0}, {'.', 1000.0}});  // a cough the VAD took for speech: no words
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.indices_locked<reply_done>().size() == 2; })) << "not resumed";
  const auto resumed = f.rec.at(f.rec.last<reply_done>());
  const std::string rest = std::get<reply_done>(resumed.body).text;
  EXPECT_EQ(rest, "On Sundays it opens at ten in the morning.");
  f.s->on_playout(resumed.env.generation, mock_samples(rest));  // heard to the end
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.turns.size() == 2; }));
  f.push({{'S', 900.0}, {'.', 1000.0}});
  f.finish();
  std::lock_guard lock(f.m);
  ASSERT_EQ(f.requests.size(), 2u);
  const auto& history = f.requests[1].messages;
  ASSERT_EQ(history.size(), 4u);  // system, user, the one assistant message, user
  EXPECT_EQ(history[2].content, k_long_reply);
  EXPECT_FALSE(history[2].interrupted) << "heard in full, in two parts";
  EXPECT_EQ(history[3].content, "and on holidays");
}

TEST(session_resume, a_request_over_a_reply_cuts_it_for_good) {
  fixture f({"when do you open", "stop"}, {k_long_reply, "Okay."}, std::nullopt, true);
  f.push(k_one_question);
  ASSERT_TRUE(f.rec.wait_for([&] { return f.rec.has_locked<reply_done>(); }));
  f.push({{'S', 600.0}, {'.', 1000.0}});
  f.finish();
  EXPECT_EQ(f.rec.committed_texts(), (std::vector<std::string>{"when do you open", "stop"}));
  EXPECT_EQ(f.s->stats().n_resumed, 0u);
}

TEST(session_resume, off_with_a_zero_window) {
  io_threads io;
  auto engines = make_engines(io.executor(), {.transcripts = {"when do you open", "uh huh"},
                                              .reply = [](const engine::chat_request&) { return k_long_reply; }});
  session_recorder rec;
  session_options options;
  options.input_queue_chunks = 100'000;
  options.barge_in = {.enabled = true, .min_speech_ms = 200, .playout_slack_ms = 0, .resume_within_ms = 0.0};
  auto s = session::create(io.executor(), engines.set(), options, rec.callbacks());
  ASSERT_TRUE(s);
  push_in_frames(**s, script_audio(k_one_question));
  ASSERT_TRUE(rec.wait_for([&] { return rec.has_locked<reply_done>(); }));
  push_in_frames(**s, script_audio({{'S', 600.0}, {'.', 1000.0}}));
  (*s)->end_input();
  ASSERT_TRUE(rec.wait_end());
  EXPECT_EQ((*s)->stats().n_barge_ins, 1u);
  EXPECT_EQ((*s)->stats().n_resumed, 0u);
}

}  // namespace
}  // namespace parley::agent
