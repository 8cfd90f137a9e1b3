// apps/commands — the `parley` subcommands, as plain functions over option structs.
//
// main.cpp maps command-line flags onto these structs (CLI11); tests call the functions directly.
// Exit codes (documented in --help and docs/configuration.md):
//   0 success · 1 usage error (bad flag value) · 2 bad input (file missing, not audio, empty,
//   unreadable, bad manifest) · 3 no speech found in the input · 4 runtime failure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "parley/agent/session.hpp"
#include "parley/apps/engine_factory.hpp"

namespace parley::app {

/// Exit statuses of the commands (docs/configuration.md). `exit_turns_failed`: `run` finished, but
/// a provider failed in some turn (its reply was the apology).
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_bad_input = 2,
  exit_no_speech = 3,
  exit_failure = 4,
  exit_turns_failed = 5
};

struct pipeline_flags {
  std::string mode = "streaming";  // streaming | sequential (bench also: both)
  double silence_ms = 400.0;       // endpointer silence threshold
  // content-aware endpointing preset (quick | conversational | patient), or off (the fixed silence_ms)
  std::string turn_taking = "conversational";
  double speed = 1.0;              // input pacing: multiple of real time
  int vad_aggressiveness = 2;      // WebRTC VAD mode 0..3
  int noise_suppression = 2;       // WebRTC noise suppression level 0..3, or -1 for off
  bool asr_denoised = false;       // the recognizer hears the noise-suppressed audio too
  double snr_gate_db = 8.0;        // voiced steps must stand this far above the noise floor (<= 0: off)
  double asr_denoise_below_snr_db = audio::k_asr_denoise_below_snr_db;  // per turn: cleaned audio for the ASR below this SNR
  bool barge_in = false;           // the user's speech over a playing reply cuts it (serve: on)
  double barge_in_min_ms = 200.0;  // speech must last this long before it does
  // speech resuming this soon after an endpoint continues the turn (with content-aware endpointing; 0: off)
  double merge_window_ms = agent::turn_end_config{}.merge_window_ms;
  double merge_max_heard_ms = agent::turn_end_config{}.merge_max_heard_ms;  // ... if its reply was heard at most this long
  // a reply starts (held) on the words so far after this much silence (with content-aware endpointing; 0: off)
  double preempt_after_ms = agent::turn_end_config{}.preempt_after_ms;
  // a barge-in with no words (or a backchannel) resumes the cut reply, when known this soon (0: off)
  double resume_within_ms = agent::barge_in_config{}.resume_within_ms;

  bool operator==(const pipeline_flags&) const = default;
};

/// The session options those flags describe.
agent::session_options session_options_from(const pipeline_flags& flags, agent::pipeline_mode mode,
                                            std::shared_ptr<agent::reply_router> router = nullptr);

/// The reply side of `choice`: persona (system prompt, greeting), latency budgets and fillers, with
/// the filler audio `engines` built.
void apply_reply_settings(agent::session_options& options, const engine_choice& choice, const built_engines& engines);

struct run_options {
  std::string input;         // WAV (any rate/channels) to play as a live microphone
  std::string output;        // reply audio WAV ("" = none)
  std::string trace;         // JSONL trace ("" = none)
  std::string transcripts;   // mock engines: one transcript per line ("" = IN.txt beside IN.wav if present)
  engine_choice engines;
  pipeline_flags pipeline;
  bool color = false;
  /// Progress lines on stderr (input played, turns so far): nullopt = when the input plays for
  /// longer than 30 s of wall time.
  std::optional<bool> progress;
};

struct bench_options {
  std::string manifest;
  engine_choice engines;
  pipeline_flags pipeline;
  int concurrency = 4;
  int repeat = 1;          // run the manifest this many times
  int limit = 0;           // use only the first N entries (0 = all)
  std::string json;        // report file ("" = none)
  bool progress = true;
  std::string gate;        // a gate baseline: fail when a tracked figure is worse than it allows (bench_gate.hpp)
  std::string gate_record; // write a gate baseline from gate_runs runs
  int gate_runs = 3;
};

struct say_options {
  std::string text;
  std::string output = "say.wav";
  engine_choice engines;
};

struct serve_options {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0: any free port
  std::string token;                      // bearer token for /ws ("" = PARLEY_TOKEN, else none)
  bool metrics_need_token = false;        // /metrics requires the token too
  std::string jwt_secret_env;             // environment variable with an HS256 JWT secret ("" = no JWT)
  std::string jwt_audience;               // required `aud` of JWTs ("" = not checked)
  std::optional<int> jwt_leeway_s;        // clock skew allowed on exp and nbf (unset: 30 s)
  std::string tls_cert, tls_key;          // PEM files: both set → https/wss only
  std::vector<std::string> allow_origins; // empty: the server's own origins; "*": any
  std::vector<std::string> allowed_hosts; // Host names answered besides addresses and localhost ("*": any)
  std::string web_root;                   // static files ("" = the bundled web/ if present)
  std::size_t max_sessions = 1000;
  std::size_t max_audio_requests = 4;     // /v1/audio/* answered at once (0: off)
  double max_upload_mb = 25.0;            // one transcription upload
  double max_asr_backlog_ms = 2000.0;
  std::size_t max_connections = 0;        // 0: from the file-descriptor limit
  std::size_t max_message_bytes = 256 * 1024;
  double idle_timeout_s = 30.0;
  double max_input_speed = 8.0;
  int max_text_turns_per_minute = 30;
  double drain_s = 10.0;                  // graceful shutdown: time turns in flight get
  std::string log_level = "info";
  engine_choice engines;
  pipeline_flags pipeline;
};

struct transcribe_options {
  std::string input;
  bool confidence = false;  // print the recognizer's confidence after the transcript, tab-separated
  engine_choice engines;
  audio::frontend_config frontend;
  // What the recognizer hears, as in a session (pipeline_flags): the input as it came unless its
  // SNR where speech starts is below asr_denoise_below_snr_db, or always the cleaned audio.
  bool asr_denoised = false;
  double asr_denoise_below_snr_db = audio::k_asr_denoise_below_snr_db;
};

struct init_options {
  std::string file = "assistant.toml";  // "-": standard output
  bool force = false;                   // overwrite an existing file
  bool keys = false;                    // print the key reference (Markdown) instead
};

int run_command(const run_options& options);
int say_command(const say_options& options);
int transcribe_command(const transcribe_options& options);
int doctor_command(const engine_choice& choice);
int bench_command(const bench_options& options);
int serve_command(const serve_options& options);
int init_command(const init_options& options);

/// "parley: error: <message>" on stderr.
void print_error(const std::string& message);

/// "<CPU model>, <n> cores", for benchmark reports.
std::string machine_description();

}  // namespace parley::app
