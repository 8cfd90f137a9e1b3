// `parley bench --manifest FILE`: many concurrent sessions over a corpus, paced in real time,
// TTFA measured from each file's true end of speech.
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "parley/agent/bulk_lane.hpp"
#include "parley/agent/session.hpp"
#include "parley/apps/bench_gate.hpp"
#include "parley/apps/commands.hpp"
#include "parley/apps/feeder.hpp"
#include "parley/apps/manifest.hpp"
#include "parley/apps/player.hpp"
#include "parley/apps/runtime.hpp"
#include "parley/audio/framer.hpp"
#include "parley/audio/wav.hpp"
#include "parley/obs/histogram.hpp"
#include "parley/obs/counters.hpp"
#include "parley/obs/json.hpp"
#include "parley/obs/waterfall.hpp"

namespace parley::app {
namespace {

constexpr int k_max_decoders = 32;  // ~90 MB each

struct job {
  std::size_t index = 0;
  const manifest_entry* entry = nullptr;
  std::shared_ptr<const std::vector<std::int16_t>> clip;
  agent::pipeline_mode mode = agent::pipeline_mode::streaming;

  // Filled while the job runs (on the session strand or the feeder thread; read after the end).
  std::atomic<std::int64_t> t_true_speech_end_ns{0};
  std::atomic<std::int64_t> t_first_audio_ns{0};  // the first reply audio the session sent
  std::optional<obs::turn_timeline> answer;  // the last turn that produced reply audio (the first, with an interruption)
  int n_turns = 0;
  std::unique_ptr<agent::session> session;
  std::unique_ptr<paced_player> player;  // --barge-in: the session's loudspeaker
  std::vector<double> barge_in_detect_ms;  // VAD onset of the interrupting speech → the session's decision
};

// An entry's audio: its file, or — with an interrupting utterance and --barge-in — the file cut or
// padded to interrupt_at_ms, then the interrupting one.
result<std::vector<std::int16_t>> entry_audio(const manifest_entry& e, bool barge_in) {
  auto clip = audio::read_audio_file(e.file.string());
  if (!clip) return clip.error();
  if (const double length_ms = samples_to_ms(static_cast<media_time>(clip->samples.size())); e.speech_end_ms > length_ms) {
    std::ostringstream m;
    m << e.file.string() << ": speech_end_ms " << e.speech_end_ms << " is past the end of the file (" << length_ms
      << " ms): TTFA is measured from it, so it must be the true end of the speech in the file";
    return make_error(errc::invalid_argument, m.str());
  }
  if (!barge_in || e.interrupt_file.empty()) return std::move(clip->samples);
  auto second = audio::read_audio_file(e.interrupt_file.string());
  if (!second) return second.error();
  auto pcm = std::move(clip->samples);
  pcm.resize(static_cast<std::size_t>(ms_to_samples(e.interrupt_at_ms)), 0);
  pcm.insert(pcm.end(), second->samples.begin(), second->samples.end());
  return pcm;
}


class progress_bar {
 public:
  progress_bar(std::size_t total, bool enabled) : total_(total), enabled_(enabled), tty_(isatty(STDERR_FILENO)) {}
  void update(std::size_t done) {
    if (!enabled_) return;
    const auto elapsed_s = std::chrono::duration<double>(steady_clock::now() - t0_).count();
    if (tty_) {
      const std::size_t width = 30, filled = total_ ? done * width / total_ : width;
      std::string bar;
      for (std::size_t i = 0; i < width; ++i) bar += i < filled ? "█" : "░";
      std::cerr << "\r" << bar << " " << done << "/" << total_ << " sessions · " << static_cast<int>(elapsed_s) << " s"
                << std::flush;
      if (done == total_) std::cerr << "\n";
    } else if (done == total_ || done * 10 / total_ != last_decile_) {
      last_decile_ = done * 10 / total_;
      std::cerr << "bench: " << done << "/" << total_ << " sessions · " << static_cast<int>(elapsed_s) << " s\n";
    }
  }

 private:
  std::size_t total_;
  bool enabled_;
  bool tty_;
  std::size_t last_decile_ = 0;
  time_point t0_ = steady_clock::now();
};

}  // namespace

std::string machine_description() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores";
}

// How much later than the VAD's end of speech a manifest's speech_end_ms may lie before the run
// warns (the VAD's estimate is within about 100 ms of the truth on the project's corpora).
constexpr auto k_speech_end_tolerance = std::chrono::milliseconds(300);

namespace {

// One bench run: prints its tables, writes --json, and leaves the report in `report`.
int run_bench(const bench_options& options, nlohmann::json& report) {
  std::vector<agent::pipeline_mode> modes;
  if (options.pipeline.mode == "both") {
    modes = {agent::pipeline_mode::streaming, agent::pipeline_mode::sequential};
  } else if (auto m = agent::parse_pipeline_mode(options.pipeline.mode)) {
    modes = {*m};
  } else {
    return print_error("unknown mode '" + options.pipeline.mode + "' (streaming, sequential or both)"), exit_usage;
  }
  if (options.concurrency < 1 || options.repeat < 1 || options.limit < 0) {
    return print_error("--concurrency and --repeat must be at least 1, --limit at least 0"), exit_usage;
  }

  if (options.manifest.empty()) return print_error("--manifest is required (or --target ws://HOST:PORT/ws)"), exit_usage;
  auto entries = read_manifest(options.manifest);
  if (!entries) return print_error(entries.error().message), exit_bad_input;
  if (options.limit > 0 && static_cast<std::size_t>(options.limit) < entries->size()) entries->resize(options.limit);

  const bool barge_in = options.pipeline.barge_in;
  const auto clip_key = [barge_in](const manifest_entry& e) {
    return e.file.string() + (barge_in && !e.interrupt_file.empty()
                                  ? "|" + e.interrupt_file.string() + "@" + std::to_string(e.interrupt_at_ms)
                                  : "");
  };
  std::map<std::string, std::shared_ptr<const std::vector<std::int16_t>>> clips;
  for (const auto& e : *entries) {
    if (clips.contains(clip_key(e))) continue;
    auto pcm = entry_audio(e, barge_in);
    if (!pcm) return print_error(pcm.error().message), exit_bad_input;
    clips[clip_key(e)] = std::make_shared<const std::vector<std::int16_t>>(std::move(*pcm));
  }

  // Jobs: every entry in every mode, modes interleaved so both see the same machine load.
  std::deque<job> jobs;
  for (int r = 0; r < options.repeat; ++r) {
    for (const auto& e : *entries) {
      for (auto mode : modes) {
        auto& j = jobs.emplace_back();
        j.index = jobs.size() - 1;
        j.entry = &e;
        j.clip = clips[clip_key(e)];
        j.mode = mode;
      }
    }
  }

  runtime rt;
  // Every session's input frames go through one lane, as in `parley serve` (agent/bulk_lane.hpp):
  // frame processing gives way to the turns' critical hops.
  const auto input_lane = std::make_shared<agent::bulk_lane>(rt.executor());
  // Real engines load once and serve every session; mock engines are made per session below,
  // each with its file's reference text as the transcript.
  engine_choice choice = options.engines;
  // One recognizer decoder per concurrent session, so no utterance waits for a free decoder.
  if (choice.n_asr_decoders == 0) choice.n_asr_decoders = std::min(options.concurrency, k_max_decoders);
  auto shared = build_engines(choice, rt.executor());
  if (!shared) return print_error(shared.error().message), exit_usage;
  {
    if (!shared->notice.empty()) std::cout << shared->notice << "\n";
    std::cout << "machine: " << machine_description() << "\n"
              << shared->summary << "\n"
              << "corpus:  " << entries->size() << " files × " << options.repeat << " × " << modes.size()
              << " mode(s) = " << jobs.size() << " sessions · concurrency " << options.concurrency << " · speed ×"
              << options.pipeline.speed << "\n";
  }

  std::map<agent::pipeline_mode, obs::metric_set> metrics;
  for (auto mode : modes) metrics[mode];
  std::map<std::pair<agent::pipeline_mode, std::string>, obs::metric_set> by_route;  // (mode, route)
  std::map<agent::pipeline_mode, obs::turn_counters> events;  // fillers, hedges, fallbacks, budget breaches
  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::deque<job*> finished;
  std::uint64_t n_dropped = 0, n_unanswered = 0, n_split = 0, n_late_speech_end = 0;
  std::uint64_t n_early_audio = 0, n_merged = 0;  // reply audio sent before the speech ended; merged turns
  agent::session_stats preempt;                   // preemptive replies, summed over the sessions
  std::uint64_t n_interrupting = 0, n_cut = 0;  // --barge-in: entries with a second utterance, replies cut
  obs::metric_set barge_in_metrics;              // barge_in_detect, barge_in_silence (ms)
  std::optional<loudspeakers> speakers;
  if (barge_in) speakers.emplace();

  paced_feeder feeder(options.pipeline.speed);
  progress_bar progress(jobs.size(), options.progress);
  std::size_t next = 0, n_running = 0, n_done = 0;

  auto start_job = [&](job& j) -> status {
    engine::engine_set engines = shared->set;
    std::shared_ptr<agent::reply_router> router = shared->router;
    if (shared->mock) {
      engine_choice per_job_choice = options.engines;
      per_job_choice.transcripts = {j.entry->text};
      if (barge_in && !j.entry->interrupt_file.empty()) per_job_choice.transcripts.push_back(j.entry->interrupt_text);
      per_job_choice.seed = options.engines.seed + j.index;
      // Every session shares the one response cache, routing pool and phrase bank, as one process does.
      auto per_job = build_engines(per_job_choice, rt.executor(),
                                   {shared->cache, shared->router_pool, shared->local_model, shared->fillers});
      if (!per_job) return per_job.error();
      engines = per_job->set;
      router = per_job->router;
    }
    auto session_options = session_options_from(options.pipeline, j.mode, router);
    apply_reply_settings(session_options, options.engines, *shared);  // one filler bank for every session
    session_options.input_lane = input_lane;
    if (barge_in) {
      j.player = std::make_unique<paced_player>(options.pipeline.speed, [jp = &j](generation_id g, std::uint64_t n) {
        if (jp->session) jp->session->on_playout(g, n);
      });
    }
    const bool interrupting = barge_in && !j.entry->interrupt_file.empty();
    auto session = agent::session::create(
        rt.executor(), engines, std::move(session_options),
        {.on_event =
             [&, jp = &j](const event& e) {
               if (jp->player) jp->player->on_event(e);
               if (std::holds_alternative<output_audio_chunk>(e.body)) {
                 std::int64_t none = 0;
                 jp->t_first_audio_ns.compare_exchange_strong(none, e.env.t_wall.time_since_epoch().count());
               }
               if (const auto* cut = std::get_if<interrupt_event>(&e.body); cut && cut->t_speech_start) {
                 jp->barge_in_detect_ms.push_back(to_ms(e.env.t_wall - *cut->t_speech_start));
               }
               if (!std::holds_alternative<end_of_stream>(e.body)) return;
               std::lock_guard lock(done_mutex);
               finished.push_back(jp);
               done_cv.notify_one();
             },
         .on_turn =
             [jp = &j, interrupting](const obs::turn_timeline& t) {
               ++jp->n_turns;
               // TTFA is measured from the first file's speech end: with an interruption, its reply.
               if (t.has(obs::stamp::first_audio_out) && !(interrupting && jp->answer)) jp->answer = t;
             }});
    if (!session) return session.error();
    j.session = std::move(*session);
    if (j.player) speakers->add(j.player.get());

    const auto speech_end_sample = ms_to_samples(j.entry->speech_end_ms);
    agent::session* s = j.session.get();
    feeder.add({.clip = j.clip,
                .push = [s](std::span<const std::int16_t> frame) { s->push_audio(frame); },
                .on_pushed =
                    [&, jp = &j, speech_end_sample](media_time first, time_point t_pushed) {
                      const auto frame_end = first + static_cast<media_time>(audio::k_frame_samples);
                      if (speech_end_sample < first || speech_end_sample >= frame_end) return;
                      // When a live microphone would have captured the true last sample of speech.
                      const auto t = t_pushed - feeder.media_duration(frame_end - speech_end_sample);
                      jp->t_true_speech_end_ns.store(t.time_since_epoch().count());
                    },
                .on_end = [s] { s->end_input(); }});
    return {};
  };

  auto finish_job = [&](job& j) {
    n_dropped += j.session->stats().n_dropped_chunks;
    const bool interrupting = barge_in && !j.entry->interrupt_file.empty();
    if (j.player) {
      speakers->remove(j.player.get());
      for (const auto ms : j.player->stops()) barge_in_metrics.record("barge_in_silence", ms);
    }
    for (const auto ms : j.barge_in_detect_ms) barge_in_metrics.record("barge_in_detect", ms);
    if (interrupting) {
      ++n_interrupting;
      n_cut += j.session->stats().n_barge_ins;
    }
    j.session->close();
    const auto stats = j.session->stats();
    n_merged += stats.n_merged;
    preempt.n_preempted += stats.n_preempted;
    preempt.n_preempt_hits += stats.n_preempt_hits;
    preempt.n_preempt_discarded += stats.n_preempt_discarded;
    preempt.n_preempt_wasted_tokens += stats.n_preempt_wasted_tokens;
    j.session.reset();
    j.player.reset();
    if (j.n_turns > (interrupting ? 2 : 1)) ++n_split;
    // A reply the person starts to hear before they have finished speaking (a turn cut in a pause,
    // even when the rest merged into it afterwards).
    const auto t_audio = j.t_first_audio_ns.load(), t_end = j.t_true_speech_end_ns.load();
    if (!interrupting && t_audio != 0 && t_end != 0 && t_audio < t_end) ++n_early_audio;
    if (!j.answer) {
      ++n_unanswered;
      return;
    }
    auto& t = *j.answer;
    if (const auto ns = j.t_true_speech_end_ns.load()) {
      // The manifest's speech end should agree with the speech the VAD heard; far later (or after
      // the reply began) means the timings are wrong and TTFA would be understated.
      const time_point truth{duration(ns)};
      const auto heard = t.at(obs::stamp::speech_end);
      const auto reply = t.at(obs::stamp::first_audio_out);
      if ((heard && truth - *heard > k_speech_end_tolerance) || (reply && truth > *reply)) ++n_late_speech_end;
      t.set(obs::stamp::speech_end, truth);
    }
    metrics[j.mode].record(t);
    events[j.mode].record(t);
    auto& route_set = by_route[{j.mode, t.route}];
    route_set.record(t);
    // What a fast route saves after the endpoint decision (docs/latency.md): finalisation included.
    if (const auto ms = t.span_ms(obs::stamp::turn_end, obs::stamp::first_audio_out)) {
      route_set.record("endpoint_to_audio", *ms);
    }
  };

  progress.update(0);
  const auto deadline_per_job = std::chrono::seconds(120);
  while (n_done < jobs.size()) {
    while (n_running < static_cast<std::size_t>(options.concurrency) && next < jobs.size()) {
      if (auto s = start_job(jobs[next++]); !s) return print_error(s.error().message), exit_failure;
      ++n_running;
    }
    std::unique_lock lock(done_mutex);
    if (!done_cv.wait_for(lock, deadline_per_job, [&] { return !finished.empty(); })) {
      print_error("no session finished within 120 s; giving up");
      return exit_failure;
    }
    while (!finished.empty()) {
      job* j = finished.front();
      finished.pop_front();
      lock.unlock();
      finish_job(*j);
      --n_running;
      ++n_done;
      progress.update(n_done);
      lock.lock();
    }
  }
  if (shared->router_pool) shared->router_pool->join();  // replies still being stored in the cache
  if (shared->prober) shared->prober->stop();             // its timers would keep the runtime busy
  rt.stop();

  report = nlohmann::json::object();
  for (auto& [mode, set] : metrics) {
    std::cout << "\n" << agent::to_string(mode) << " (ms)\n" << obs::render_summary_table(set);
    report[std::string(agent::to_string(mode))] = obs::to_json(set);
  }
  // Per route (intent, cache, LLM...), when turns took more than one: side by side in this run.
  if (by_route.size() > metrics.size()) {
    for (auto& [key, set] : by_route) {
      const auto mode = std::string(agent::to_string(key.first));
      std::cout << "\n" << mode << " · route " << key.second << " (ms)\n" << obs::render_summary_table(set);
      report["by_route"][mode][key.second] = obs::to_json(set);
    }
  }
  for (auto& [mode, counters] : events) {
    std::string line;
    for (const auto& [name, n] : counters.snapshot()) {
      if (name == "turns") continue;
      line += (line.empty() ? "" : " · ") + name + " " + std::to_string(n);
      report["turn_events"][std::string(agent::to_string(mode))][name] = n;
    }
    if (!line.empty()) std::cout << "\n" << agent::to_string(mode) << " turns with: " << line << "\n";
  }
  if (shared->cache) {
    const auto c = shared->cache->stats();
    std::cout << "\nresponse cache: " << c.n_lookups << " lookups · " << c.n_exact_hits << " exact + "
              << c.n_semantic_hits << " semantic hits · " << c.n_stores << " stored · " << c.n_not_stored
              << " not stored (volatile) · " << c.n_shared_errors << " shared-tier errors\n";
  }
  if (n_interrupting > 0) {
    std::cout << "\nbarge-in: " << n_cut << " of " << n_interrupting
              << " replies cut by the second utterance (ms: barge_in_detect = its VAD onset → the decision,"
                 " barge_in_silence = the decision → the loudspeaker silent)\n"
              << obs::render_summary_table(barge_in_metrics);
    report["barge_in"] = obs::to_json(barge_in_metrics);
    report["barge_in"]["n_interrupting"] = n_interrupting;
    report["barge_in"]["n_cut"] = n_cut;
  }
  std::cout << "\n"
            << jobs.size() << " sessions · " << n_unanswered << " unanswered · " << n_split
            << " split into several turns · " << n_early_audio << " replied to before the speech ended · " << n_merged
            << " merged turns · " << n_dropped << " input chunks dropped\n";
  report["turn_taking"] = {{"n_split", n_split},
                           {"n_early_audio", n_early_audio},
                           {"n_merged", n_merged},
                           {"n_preempted", preempt.n_preempted},
                           {"n_preempt_hits", preempt.n_preempt_hits},
                           {"n_preempt_discarded", preempt.n_preempt_discarded},
                           {"n_preempt_wasted_tokens", preempt.n_preempt_wasted_tokens}};
  if (preempt.n_preempted > 0) {
    std::cout << "preemptive replies: " << preempt.n_preempted << " started · " << preempt.n_preempt_hits
              << " released · " << preempt.n_preempt_discarded << " discarded ("
              << preempt.n_preempt_wasted_tokens << " model tokens wasted)\n";
  }
  if (n_late_speech_end > 0) {
    std::cout << "warning: in " << n_late_speech_end << " answered turn(s) the manifest's speech_end_ms lies more than "
              << std::chrono::duration_cast<std::chrono::milliseconds>(k_speech_end_tolerance).count()
              << " ms after the end of speech the VAD heard, or after the reply began: TTFA is understated there; "
                 "check the manifest's timings\n";
    report["n_late_speech_end"] = n_late_speech_end;
  }
  if (modes.size() == 2) {
    const auto* s = metrics[agent::pipeline_mode::streaming].find("ttfa");
    const auto* q = metrics[agent::pipeline_mode::sequential].find("ttfa");
    if (s && q && s->summary().n && q->summary().n && q->summary().p50 > 0) {
      std::cout << "ttfa p50 streaming / sequential = " << s->summary().p50 / q->summary().p50 << " ("
                << q->summary().p50 / s->summary().p50 << "× faster)\n";
    }
  }
  if (!options.json.empty()) {
    std::ofstream out(options.json);
    out << report.dump(2) << "\n";
    if (!out) return print_error("cannot write report '" + options.json + "'"), exit_failure;
    std::cout << "report: " << options.json << "\n";
  }
  return n_unanswered == 0 ? exit_ok : exit_failure;
}

}  // namespace

int bench_command(const bench_options& options) {
  if (!options.gate.empty() && !options.gate_record.empty()) {
    return print_error("--gate and --gate-record: one at a time (record a baseline, then gate later runs on it)"), exit_usage;
  }
  if (!options.gate_record.empty()) {
    if (options.gate_runs < 2) return print_error("--gate-runs must be at least 2: the tolerance comes from their spread"), exit_usage;
    std::vector<nlohmann::json> reports;
    for (int i = 1; i <= options.gate_runs; ++i) {
      std::cout << "== gate run " << i << " of " << options.gate_runs << "\n";
      nlohmann::json report;
      if (const int code = run_bench(options, report); code != exit_ok) return code;
      reports.push_back(std::move(report));
    }
    auto baseline = record_gate(reports);
    if (!baseline) return print_error(baseline.error().message), exit_failure;
    (*baseline)["gate"]["machine"] = machine_description();
    std::ofstream out(options.gate_record);
    out << baseline->dump(2) << "\n";
    if (!out) return print_error("cannot write the gate baseline '" + options.gate_record + "'"), exit_failure;
    std::cout << "\ngate baseline: " << options.gate_record << " (" << (*baseline)["gate"]["tracked"].size()
              << " figures: the median of " << options.gate_runs << " runs, tolerance from their spread)\n";
    return exit_ok;
  }
  nlohmann::json report;
  const int code = run_bench(options, report);
  if (options.gate.empty()) return code;
  std::ifstream in(options.gate);
  if (!in) return print_error("cannot read the gate baseline '" + options.gate + "'"), exit_bad_input;
  const auto baseline = nlohmann::json::parse(in, nullptr, false);
  if (baseline.is_discarded()) return print_error(options.gate + ": not JSON"), exit_bad_input;
  const auto verdict = check_gate(baseline, report);
  if (!verdict) return print_error(options.gate + ": " + verdict.error().message), exit_bad_input;
  std::cout << "\ngate (" << options.gate << "):\n" << render_gate(*verdict);
  if (!verdict->ok) {
    print_error("the gate failed: a tracked figure is worse than its baseline allows (or was not measured)");
    return exit_failure;
  }
  std::cout << "gate passed\n";
  return code;
}

}  // namespace parley::app
