// `parley run IN.wav`: one session fed by a file as a live microphone.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <cmath>

#include "parley/agent/session.hpp"
#include "parley/apps/commands.hpp"
#include "parley/apps/feeder.hpp"
#include "parley/apps/player.hpp"
#include "parley/apps/runtime.hpp"
#include "parley/audio/wav.hpp"
#include "parley/obs/histogram.hpp"
#include "parley/obs/trace.hpp"
#include "parley/obs/waterfall.hpp"

namespace parley::app {
namespace {

constexpr double k_gap_between_replies_ms = 300.0;  // silence between turns in the reply file

result<std::vector<std::string>> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(errc::not_found, "cannot open transcripts file '" + path + "'");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Collects the reply audio of every turn into one WAV, with a short silence between turns.
class reply_file {
 public:
  explicit reply_file(std::string path) : path_(std::move(path)) {}
  status append(std::span<const std::int16_t> samples, int rate_hz, bool first_of_reply) {
    if (!writer_) {
      auto w = audio::wav_writer::open(path_, rate_hz);
      if (!w) return w.error();
      writer_.emplace(std::move(*w));
      rate_hz_ = rate_hz;
    } else if (first_of_reply) {
      const std::vector<std::int16_t> gap(static_cast<std::size_t>(k_gap_between_replies_ms * rate_hz_ / 1000.0));
      if (auto s = writer_->append(gap); !s) return s;
    }
    n_samples_ += static_cast<std::int64_t>(samples.size());
    return writer_->append(samples);
  }
  status close() { return writer_ ? writer_->close() : status{}; }
  bool written() const { return writer_.has_value(); }
  double seconds() const { return rate_hz_ ? static_cast<double>(n_samples_) / rate_hz_ : 0.0; }

 private:
  std::string path_;
  std::optional<audio::wav_writer> writer_;
  int rate_hz_ = 0;
  std::int64_t n_samples_ = 0;
};

}  // namespace

void print_error(const std::string& message) { std::cerr << "parley: error: " << message << "\n"; }

agent::session_options session_options_from(const pipeline_flags& flags, agent::pipeline_mode mode,
                                            std::shared_ptr<agent::reply_router> router) {
  agent::session_options options;
  options.mode = mode;
  options.router = std::move(router);
  options.endpointing.silence_ms = flags.silence_ms;
  options.frontend.vad_aggressiveness = flags.vad_aggressiveness;
  options.frontend.noise_suppression = flags.noise_suppression >= 0;
  options.frontend.noise_suppression_level = std::max(0, flags.noise_suppression);
  options.frontend.snr_gate_db = flags.snr_gate_db;
  options.recognizer_hears_denoised = flags.asr_denoised;
  options.recognizer_denoised_below_snr_db = flags.asr_denoise_below_snr_db;
  options.barge_in.enabled = flags.barge_in;
  options.barge_in.min_speech_ms = flags.barge_in_min_ms;
  options.barge_in.resume_within_ms = flags.resume_within_ms;
  if (flags.turn_taking != "off") {  // the flag's check admits only the presets' names
    if (auto preset = agent::parse_turn_taking(flags.turn_taking)) {
      options.turn_end = agent::turn_end_config::preset(*preset);
      options.turn_end->merge_window_ms = flags.merge_window_ms;
      options.turn_end->merge_max_heard_ms = flags.merge_max_heard_ms;
      options.turn_end->preempt_after_ms = flags.preempt_after_ms;
    }
  }
  return options;
}

// "m:ss" of a duration in ms (progress lines).
std::string format_clock(double ms) {
  const auto s = static_cast<long>(ms / 1000.0);
  return std::to_string(s / 60) + ":" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60);
}

void apply_reply_settings(agent::session_options& options, const engine_choice& choice, const built_engines& engines) {
  options.budgets.llm_ttft_ms = choice.llm_first_token_budget_ms;
  options.budgets.tool_call_ms = choice.tool_budget_ms;
  options.budgets.ttfa_ms = choice.ttfa_budget_ms;
  options.filler.enabled = choice.fillers;
  options.filler_bank = engines.fillers;  // fillers only when enabled; the apology always
  options.system_prompt = choice.system_prompt;
  options.greeting = choice.greeting;  // spoken only where a front end announces it (serve)
}

int run_command(const run_options& options) {
  auto mode = agent::parse_pipeline_mode(options.pipeline.mode);
  if (!mode) return print_error(mode.error().message), exit_usage;

  auto clip = audio::read_audio_file(options.input);
  if (!clip) return print_error(clip.error().message), exit_bad_input;

  engine_choice choice = options.engines;
  std::string transcripts_path = options.transcripts;
  if (transcripts_path.empty()) {
    const auto sidecar = std::filesystem::path(options.input).replace_extension(".txt");
    if (std::filesystem::is_regular_file(sidecar)) transcripts_path = sidecar.string();
  }
  if (!transcripts_path.empty()) {
    auto lines = read_lines(transcripts_path);
    if (!lines) return print_error(lines.error().message), exit_bad_input;
    choice.transcripts = std::move(*lines);
  }

  std::optional<obs::trace_writer> trace;
  if (!options.trace.empty()) {
    auto t = obs::trace_writer::open(options.trace);
    if (!t) return print_error(t.error().message), exit_bad_input;
    trace.emplace(std::move(*t));
  }

  runtime rt;
  auto engines = build_engines(choice, rt.executor());
  if (!engines) return print_error(engines.error().message), exit_usage;
  if (!engines->notice.empty()) std::cout << engines->notice << "\n";
  if (engines->mock && choice.transcripts.empty()) {
    std::cerr << "note: no transcripts for the mock recognizer (give --transcripts FILE or put "
              << std::filesystem::path(options.input).replace_extension(".txt").filename().string()
              << " beside the input); turns will be heard as empty.\n";
  }

  std::cout << "input:   " << options.input << " · " << clip->source_rate_hz << " Hz, " << clip->source_channels
            << " ch · " << static_cast<int>(clip->duration_ms()) / 1000.0 << " s · paced ×" << options.pipeline.speed
            << " · " << agent::to_string(*mode) << "\n"
            << engines->summary << "\n";

  std::mutex out_mutex;  // on_turn / on_event run on the session strand, main waits below
  obs::metric_set metrics;
  std::optional<reply_file> replies;
  if (!options.output.empty()) replies.emplace(options.output);
  std::string write_error;
  int n_turns = 0, n_barge_ins = 0, n_failed = 0;
  std::promise<void> finished;
  // With barge-in, a paced player is the loudspeaker: it plays the replies in real time, tells the
  // session what was heard, and the reply file holds what it played (cut where interrupted).
  agent::session* session_ptr = nullptr;  // set once the session exists, before any audio
  std::optional<paced_player> player;
  if (options.pipeline.barge_in) {
    player.emplace(
        options.pipeline.speed,
        [&session_ptr](generation_id g, std::uint64_t n) { session_ptr->on_playout(g, n); },
        [&](std::span<const std::int16_t> pcm, int rate_hz, bool first) {
          if (!replies) return;
          if (auto s = replies->append(pcm, rate_hz, first); !s && write_error.empty()) write_error = s.error().message;
        });
  }

  auto session_options = session_options_from(options.pipeline, *mode, engines->router);
  apply_reply_settings(session_options, options.engines, *engines);
  auto session = agent::session::create(
      rt.executor(), engines->set, std::move(session_options),
      {.on_event =
           [&](const event& e) {
             if (player) player->on_event(e);
             if (const auto* audio = std::get_if<output_audio_chunk>(&e.body); audio && replies && !player) {
               if (auto s = replies->append(audio->samples, audio->rate_hz, audio->first); !s && write_error.empty()) {
                 write_error = s.error().message;
               }
             } else if (std::holds_alternative<end_of_stream>(e.body)) {
               finished.set_value();
             } else if (const auto* err = std::get_if<error_event>(&e.body)) {
               std::lock_guard lock(out_mutex);
               std::cerr << "parley: turn " << e.env.turn.value << ": " << err->err.describe() << "\n";
             }
           },
       .on_turn =
           [&](const obs::turn_timeline& t) {
             std::lock_guard lock(out_mutex);
             ++n_turns;
             metrics.record(t);
             if (trace) {
               if (auto s = trace->write(t); !s && write_error.empty()) write_error = s.error().message;
             }
             std::cout << "\n── turn " << t.turn.value << (t.flags.interrupted ? " (interrupted)" : "") << "\n"
                       << "  you:    " << (t.transcript.empty() ? "(nothing recognised)" : t.transcript) << "\n";
             if (!t.reply.empty()) std::cout << "  parley: " << t.reply << (t.flags.interrupted ? " …" : "") << "\n";
             if (t.flags.failed) {
               ++n_failed;
               const auto* why = t.note_text(obs::note_name::failure);
               std::cout << "  (failed: " << (why ? *why : std::string("a provider failed")) << ")\n";
             }
             if (const auto first = t.note_number(obs::note_name::merged_with)) {
               std::cout << "  (you went on after a pause: one turn with turn " << *first << "'s words";
               if (const auto heard = t.note_number(obs::note_name::merged_heard_ms); heard && *heard > 0.0) {
                 std::cout << "; its reply was withdrawn after " << std::round(*heard / 100.0) / 10.0 << " s";
               }
               std::cout << ")\n";
             }
             if (const auto after = t.note_number(obs::note_name::resumed_after_ms)) {
               std::cout << "  (no request in what you said over the reply: it went on, " << *after << " ms after the cut)\n";
             }
             if (t.has_note(obs::note_name::interrupt_reason, std::string("barge_in"))) {
               ++n_barge_ins;
               const auto heard = t.note_number(obs::note_name::heard_ms);
               std::cout << "  (cut when you spoke over it";
               if (heard) std::cout << " · heard " << std::round(*heard / 100.0) / 10.0 << " s";
               if (const auto total = t.reply_audio_ms()) std::cout << " of " << std::round(*total / 100.0) / 10.0 << " s";
               std::cout << ")\n";
             }
             std::cout << obs::render_waterfall(t, {.width = 72, .color = options.color}) << std::flush;
           }});
  if (!session) return print_error(session.error().message), exit_failure;
  session_ptr = session->get();

  // The wait below is bounded by the input's own duration (read before its samples move out).
  const auto clip_wall = from_ms(clip->duration_ms() / options.pipeline.speed);
  auto samples = std::make_shared<const std::vector<std::int16_t>>(std::move(clip->samples));
  std::optional<loudspeakers> speaker;  // destroyed (its thread joined) before the session
  if (player) {
    speaker.emplace();
    speaker->add(&*player);
  }
  {
    paced_feeder feeder(options.pipeline.speed);
    agent::session& s = **session;
    feeder.add({.clip = samples,
                .push = [&s](std::span<const std::int16_t> frame) { s.push_audio(frame); },
                .on_pushed = {},
                .on_end = [&s] { s.end_input(); }});
    // Bounded wait: the clip's own duration plus a generous allowance for the last reply. A long
    // run says how far it is at every tenth of the input.
    const bool show_progress = options.progress.value_or(clip_wall > std::chrono::seconds(30));
    const auto t_start = steady_clock::now();
    const auto deadline = t_start + clip_wall + std::chrono::seconds(120);
    auto done = finished.get_future();
    int tenths_shown = 0;
    while (done.wait_for(show_progress ? std::max<duration>(clip_wall / 100, std::chrono::milliseconds(10))
                                       : std::chrono::milliseconds(500)) != std::future_status::ready) {
      const auto elapsed = steady_clock::now() - t_start;
      if (steady_clock::now() >= deadline) {
        print_error("the session did not finish within 120 s after the input ended");
        return exit_failure;
      }
      const int tenths = static_cast<int>(std::min<double>(10.0, 10.0 * to_ms(elapsed) / std::max(1.0, to_ms(clip_wall))));
      if (!show_progress || tenths <= tenths_shown) continue;
      tenths_shown = tenths;
      std::lock_guard lock(out_mutex);
      const double speed = options.pipeline.speed;
      std::cerr << "parley: " << format_clock(to_ms(std::min<duration>(elapsed, clip_wall)) * speed) << " of "
                << format_clock(to_ms(clip_wall) * speed) << " of input played · " << n_turns
                << (n_turns == 1 ? " turn" : " turns") << " so far" << (tenths == 10 ? " · waiting for the last reply" : "")
                << "\n";
    }
  }
  if (player) {  // the last reply's audio still in the loudspeaker (bounded by its length)
    const auto t_end = steady_clock::now() + player->remaining() + std::chrono::seconds(1);
    while (!player->idle() && steady_clock::now() < t_end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto stats = (*session)->stats();
  (*session)->close();
  if (engines->router_pool) engines->router_pool->join();  // replies still being stored in the cache
  if (engines->prober) engines->prober->stop();             // its timers would keep the runtime busy
  rt.stop();

  if (replies) {
    if (auto s = replies->close(); !s && write_error.empty()) write_error = s.error().message;
  }
  if (!write_error.empty()) return print_error(write_error), exit_failure;

  std::cout << "\n";
  if (n_turns == 0) {
    std::cout << "no speech found in " << options.input << "\n";
    return exit_no_speech;
  }
  if (n_turns > 1) std::cout << obs::render_summary_table(metrics);
  std::cout << n_turns << " turn" << (n_turns == 1 ? "" : "s");
  if (n_failed) std::cout << " · " << n_failed << " failed";
  if (stats.n_merged) std::cout << " · " << stats.n_merged << " merged after a pause";
  if (stats.n_dropped_chunks) std::cout << " · " << stats.n_dropped_chunks << " input chunks dropped";
  if (replies && replies->written()) std::cout << " · reply audio: " << options.output << " (" << replies->seconds() << " s)";
  if (trace) std::cout << " · trace: " << options.trace;
  std::cout << "\n";
  if (player && n_barge_ins > 0) {
    const auto stops = player->stops();
    const double worst = stops.empty() ? 0.0 : *std::max_element(stops.begin(), stops.end());
    std::cout << "barge-in: " << n_barge_ins << " repl" << (n_barge_ins == 1 ? "y" : "ies")
              << " cut; the loudspeaker went silent at most " << std::round(worst * 100.0) / 100.0
              << " ms after the decision\n";
  }
  return n_failed > 0 ? exit_turns_failed : exit_ok;
}

}  // namespace parley::app
