// parley — the command-line front end. Flags map onto the option structs of commands.hpp.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <limits>

#include "bench/load/ws_load.hpp"
#include "parley/apps/assistant_file.hpp"
#include "parley/apps/cli_flags.hpp"
#include "parley/apps/commands.hpp"

namespace {

using parley::app::add_on_off_flag;
using parley::app::engine_choice;
using parley::app::pipeline_flags;

// Each command offers only the flags it uses: `say` a voice, `transcribe` the FAQ (its phrases
// bias the recognizer), `doctor` what it checks, and the session commands everything.
void add_voice_flag(CLI::App& cmd, engine_choice& e) {
  cmd.add_option("--voice", e.voice,
                 "TTS voice: a flite voice (rms, slt, awb, kal16, kal; default rms) or espeak:LANG (e.g. espeak:en-us)");
}

void add_faq_flag(CLI::App& cmd, engine_choice& e) {
  cmd.add_option("--faq", e.faq_path, "FAQ knowledge file for the local responder (default: the bundled store example)");
  add_on_off_flag(cmd, "intents", e.intents,
                  "the local responder's built-in intents: time, date, timers, sums and unit conversions (off: only "
                  "the FAQ and greetings, thanks, stop, repeat answer locally)");
}

void add_local_model_flags(CLI::App& cmd, engine_choice& e) {
  cmd.add_option("--model", e.model_path,
                 "a GGUF model run in-process by llama.cpp as the local LLM tier (KV cache kept per session); "
                 "turns the local responder cannot answer go there")
      ->check(CLI::ExistingFile);
  cmd.add_option("--model-ctx", e.model_ctx, "with --model: context window per session, in tokens")
      ->capture_default_str()
      ->check(CLI::Range(256, 1 << 20));
  cmd.add_option("--model-threads", e.model_threads, "with --model: decoding threads (0: one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--model-max-tokens", e.model_max_tokens, "with --model: the longest reply, in tokens")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
}

// The reply side of a session: LLM servers, hedging, the local model, budgets and fillers.
void add_reply_flags(CLI::App& cmd, engine_choice& e) {
  add_voice_flag(cmd, e);
  add_faq_flag(cmd, e);
  cmd.add_option("--llm-url", e.llm_url,
                 "an OpenAI-compatible LLM server's API root, e.g. http://127.0.0.1:8080/v1 (llama-server), "
                 "http://127.0.0.1:11434/v1 (Ollama), https://api.groq.com/openai/v1; turns the local responder "
                 "cannot answer go there (see docs/providers.md)");
  cmd.add_option("--llm-model", e.llm_model, "model name as the LLM server knows it");
  cmd.add_option("--llm-max-tokens", e.llm_max_tokens,
                 "the longest reply the LLM server may write, in tokens (sent as max_tokens; whatever a server "
                 "does, a reply also stops at 4000 characters)")
      ->capture_default_str()
      ->check(CLI::Range(1, 32768));
  cmd.add_option("--llm-fallback-url", e.llm_fallback_url,
                 "a second server with the same model: turns move there when the first fails before its first "
                 "token (never after text has streamed)");
  auto* hedge_ms = cmd.add_option("--hedge-ms", e.hedge_ms,
                 "with --llm-fallback-url: when the first server has sent no token after this long, ask the second "
                 "too and keep whichever answers first (0: no hedging)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--hedge-budget", e.hedge_budget,
                 "with --hedge-ms: hedges may add at most this fraction of LLM requests, e.g. 0.1 for 10% "
                 "(a token bucket that starts empty; 0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->needs(hedge_ms);
  cmd.add_option("--llm-key-env", e.llm_key_env, "environment variable holding the LLM server's API key")
      ->capture_default_str();
  cmd.add_option("--llm-tier", e.llm_tier,
                 "local: the server runs on this machine (turns with personal data may go there); cloud: it does not")
      ->capture_default_str()
      ->check(CLI::IsMember({"local", "cloud"}));
  add_local_model_flags(cmd, e);
  cmd.add_option("--llm-budget-ms", e.llm_first_token_budget_ms,
                 "first-token budget: when an LLM tier's recent p95 exceeds it, turns prefer the other tier; a turn "
                 "whose first token is later plays a filler (\"One moment.\") while it waits")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--tool-budget-ms", e.tool_budget_ms,
                 "a tool call of the LLM running longer than this announces itself (\"Let me check.\"); 0 off")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--ttfa-budget-ms", e.ttfa_budget_ms, "a turn whose TTFA is over this is noted as a breach; 0 off")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_on_off_flag(cmd, "fillers", e.fillers,
                  "play a filler phrase (\"One moment.\") when a latency budget runs out; breaches are noted either way");
}

// --assistant FILE is read before the flags are parsed (main), so that flags override the file;
// CLI11 only needs to know the option.
void add_assistant_flag(CLI::App& cmd) {
  static std::string ignored;
  cmd.add_option("--assistant", ignored,
                 "an assistant file (TOML: persona, greeting, FAQ, LLM servers, cache, privacy, turn-taking, "
                 "latency; `parley init` writes one, docs/configuration.md lists its keys); flags given as well "
                 "override it");
}

// Speech providers over OpenAI's audio API, with the embedded engines as their fallback.
void add_speech_provider_flags(CLI::App& cmd, engine_choice& e) {
  cmd.add_option("--asr-url", e.asr_url,
                 "an OpenAI-compatible speech-to-text API root, e.g. https://api.openai.com/v1 or another parley "
                 "serve's http://HOST:PORT/v1: each utterance goes there first (http/https: posted to "
                 "/audio/transcriptions when the turn ends; ws/wss, e.g. ws://HOST:PORT/v1: streamed while spoken to a "
                 "Realtime transcription session at /realtime); the embedded recognizer answers when it fails or misses "
                 "--asr-budget-ms");
  cmd.add_option("--asr-model", e.asr_model, "with --asr-url: the recognizer's model name")->capture_default_str();
  cmd.add_option("--asr-budget-ms", e.asr_budget_ms,
                 "with --asr-url: no transcript this long after the turn ended → the embedded recognizer takes over")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600000.0));
  cmd.add_option("--tts-url", e.tts_url,
                 "an OpenAI-compatible text-to-speech API root (POST /audio/speech, pcm): replies are spoken there; the "
                 "embedded voice (--voice) speaks what it fails or is late to say (--tts-budget-ms), never a word twice");
  cmd.add_option("--tts-model", e.tts_model, "with --tts-url: the voice model's name")->capture_default_str();
  cmd.add_option("--tts-voice", e.tts_voice, "with --tts-url: the voice's name")->capture_default_str();
  cmd.add_option("--tts-budget-ms", e.tts_budget_ms,
                 "with --tts-url: no audio this long after a sentence was sent → the embedded voice says it")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 600000.0));
  cmd.add_option("--speech-key-env", e.speech_key_env,
                 "environment variable holding the speech provider's API key (--asr-url, --tts-url)")
      ->capture_default_str();
}

void add_engine_flags(CLI::App& cmd, engine_choice& e) {
  add_assistant_flag(cmd);
  add_speech_provider_flags(cmd, e);
  cmd.add_option("--engines", e.engines,
                 "default: the embedded offline stack (pocketsphinx ASR, local intent + FAQ responder, flite TTS); "
                 "mock: scripted engines with provider-like latency, for tests and benchmarks")
      ->capture_default_str();
  add_reply_flags(cmd, e);
  cmd.add_option("--llm-profile", e.llm_profile,
                 "latency profile of the mock chat model: zero (no latency at all), groq-llama-70b, "
                 "cloud-fast-tier, cloud-balanced, cloud-premium, self-hosted-7b")
      ->capture_default_str();
  cmd.add_option("--tts-profile", e.tts_profile,
                 "latency profile of the mock synthesizer: zero, piper-cpu, cartesia-sonic-3, "
                 "elevenlabs-flash-v2.5, deepgram-aura-2")
      ->capture_default_str();
  cmd.add_option("--asr-final-ms", e.asr_final_ms, "mock recognizer: endpoint → final transcript delay (ms)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--seed", e.seed, "seed of the mock engines' latency draws")->capture_default_str();
  cmd.add_option("--cache", e.cache,
                 "response cache for LLM replies (text + audio): off, memory (in-process), or redis (in-process in "
                 "front of a Redis shared by several parley instances)")
      ->capture_default_str()
      ->check(CLI::IsMember({"off", "memory", "redis"}));
  cmd.add_option("--redis", e.redis, "HOST:PORT of the Redis shared cache tier (with --cache redis)")
      ->capture_default_str();
  cmd.add_option("--cache-embedder", e.cache_embedder,
                 "what compares queries for semantic cache hits: ngram (built in, no model), a GGUF embedding model "
                 "file (llama.cpp, e.g. bge-small), or an embeddings server's API root http(s)://HOST/v1")
      ->capture_default_str();
  cmd.add_option("--cache-embedder-model", e.cache_embedder_model, "with an embeddings server: the model name");
  cmd.add_option("--cache-threshold", e.cache_threshold,
                 "semantic hit threshold (cosine) of static replies; time-sensitive ones need +0.075 (default: "
                 "the n-gram embedder's 0.675; another embedder needs its own, see bench/cache)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--privacy", e.privacy,
                 "turns whose transcript holds personal data (phone, e-mail, card...): pii_local_only keeps them on "
                 "this machine (local responder or local LLM); allow_cloud lets them reach a cloud LLM. They are "
                 "never cached either way")
      ->capture_default_str()
      ->check(CLI::IsMember({"pii_local_only", "allow_cloud"}));
}

// What the recognizer hears (run, bench, serve, transcribe): the input as it came, or the
// noise-suppressed audio in noisy turns or always.
void add_asr_input_flags(CLI::App& cmd, double& denoise_below_snr_db, bool& denoised) {
  cmd.add_option("--asr-denoise-below-snr", denoise_below_snr_db,
                 "per turn, the recognizer hears the noise-suppressed audio when the input's SNR is below this "
                 "(dB; 0: never, it hears the input as it came)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd.add_flag("--asr-denoised", denoised,
               "feed the recognizer the noise-suppressed audio always (default: only in turns whose input SNR is "
               "below --asr-denoise-below-snr; clean speech is recognised better as it came)");
}

// The session's pipeline flags (run, bench, serve). `paced_input`: the command reads files, so
// --speed applies (serve's audio arrives from its clients at their own pace).
void add_pipeline_flags(CLI::App& cmd, pipeline_flags& p, const std::string& mode_help, bool paced_input = true) {
  cmd.add_option("--mode", p.mode, mode_help)->capture_default_str();
  add_on_off_flag(cmd, "barge-in", p.barge_in,
                  "interrupt the reply when the user speaks over it; history keeps the words heard");
  cmd.add_option("--barge-in-min-ms", p.barge_in_min_ms, "speech must last this long (ms) before it interrupts the reply")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  cmd.add_option("--silence-ms", p.silence_ms, "trailing silence that ends the user's turn (ms; with --turn-taking off)")
      ->capture_default_str()
      ->check(CLI::Range(50.0, 5000.0));
  cmd.add_option("--turn-taking", p.turn_taking,
                 "content-aware endpointing: the silence that ends a turn follows what was said (a complete request "
                 "ends sooner, an unfinished one waits); quick | conversational | patient, or off: the fixed --silence-ms")
      ->capture_default_str()
      ->check(CLI::IsMember({"off", "quick", "conversational", "patient"}));
  cmd.add_option("--merge-window-ms", p.merge_window_ms,
                 "merged turns: speech that resumes within this long after a turn ended continues that turn (its "
                 "reply is withdrawn, the whole is answered); with --turn-taking, 0: off")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  cmd.add_option("--merge-max-heard-ms", p.merge_max_heard_ms,
                 "... unless that turn's reply has already been heard for longer than this (ms)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  cmd.add_option("--preempt-after-ms", p.preempt_after_ms,
                 "preemptive replies: after this much silence the reply to the words so far starts, held, and is "
                 "released at the endpoint if the final words match (else discarded); intents that act and tools "
                 "never run early; with --turn-taking, 0: off")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10000.0));
  cmd.add_option("--resume-within-ms", p.resume_within_ms,
                 "with barge-in: speech that cut a reply but held no words, or only \"uh-huh\"/\"okay\", resumes the "
                 "reply when its transcript comes within this long of the cut (ms; 0: a cut reply stays cut)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 60000.0));
  if (paced_input) {
    cmd.add_option("--speed", p.speed, "feed the audio at this multiple of real time (TTFA is only meaningful at 1)")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 1000.0));
  }
  cmd.add_option("--vad-aggressiveness", p.vad_aggressiveness,
                 "WebRTC VAD mode: 0 (hears speech most readily) .. 3 (rejects non-speech most)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3));
  cmd.add_option("--noise-suppression", p.noise_suppression,
                 "WebRTC noise suppression level for the VAD: 0 low, 1 moderate, 2 high, 3 very high, -1 off")
      ->capture_default_str()
      ->check(CLI::Range(-1, 3));
  cmd.add_option("--snr-gate-db", p.snr_gate_db,
                 "a voiced 10 ms step must stand this many dB above the noise floor (ends turns on time in loud "
                 "noise; 0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 40.0));
  add_asr_input_flags(cmd, p.asr_denoise_below_snr_db, p.asr_denoised);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "parley — a real-time voice assistant runtime.\n"
      "Audio in → VAD → endpointing → ASR → responder → sentence chunker → TTS → audio out, every stage streaming.\n"
      "Exit codes: 0 ok · 1 usage · 2 bad input file · 3 no speech found · 4 runtime failure."};
  app.require_subcommand(1);

  parley::app::run_options run;
  run.color = isatty(STDOUT_FILENO);
  auto* run_cmd = app.add_subcommand("run", "Answer every spoken turn in a WAV file fed as a live microphone; "
                                            "print transcripts, replies and a per-turn latency waterfall");
  run_cmd->add_option("input", run.input, "input audio (WAV or any format libsndfile reads; resampled to 16 kHz mono)")
      ->required();
  run_cmd->add_option("-o,--output", run.output, "write the reply audio here (WAV)");
  run_cmd->add_option("--trace", run.trace, "append one JSON line per turn (the latency timeline) to this file");
  run_cmd->add_option("--transcripts", run.transcripts,
                      "mock recognizer: one transcript per turn, one per line (default: IN.txt beside IN.wav)");
  run_cmd->add_flag("--color", run.color, "colour the waterfall (default: when stdout is a terminal)");
  run_cmd->add_flag_callback("--no-color", [&run] { run.color = false; }, "turn --color off");
  run_cmd->add_flag_callback("--progress", [&run] { run.progress = true; },
                             "print a progress line (input played, turns so far) at every tenth of the input "
                             "(default: when the input plays for longer than 30 s)");
  run_cmd->add_flag_callback("--no-progress", [&run] { run.progress = false; }, "no progress lines");
  add_pipeline_flags(*run_cmd, run.pipeline, "streaming (every stage overlaps) or sequential (each waits: for comparison)");
  add_engine_flags(*run_cmd, run.engines);

  parley::app::bench_options bench;
  bench.progress = true;
  auto* bench_cmd = app.add_subcommand(
      "bench", "Run many concurrent real-time sessions over a corpus manifest and report latency percentiles "
               "(TTFA from each file's true end of speech)");
  bench_cmd->add_option("--manifest", bench.manifest, "JSONL manifest: file, text, speech_end_ms per line (required without --target)");
  bench_cmd->add_option("--concurrency", bench.concurrency, "sessions running at once")->capture_default_str();
  bench_cmd->add_option("--repeat", bench.repeat, "run the manifest this many times")->capture_default_str();
  bench_cmd->add_option("--limit", bench.limit, "use only the first N manifest entries (0: all)")->capture_default_str();
  bench_cmd->add_option("--json", bench.json, "write the report: mode → metric → {n, p50, p90, p95, p99, mean} (ms)");
  bench_cmd->add_flag_callback("--no-progress", [&bench] { bench.progress = false; }, "do not show the progress bar");
  bench_cmd->add_option("--gate", bench.gate,
                        "regression gate: compare this run with a baseline (--gate-record) and fail (exit 4) when a "
                        "figure it tracks is worse than its tolerance allows");
  bench_cmd->add_option("--gate-record", bench.gate_record,
                        "run --gate-runs times and write a gate baseline: each tracked figure's median (TTFA and "
                        "overhead p50/p95/p99 per mode, the streaming/sequential ratio) and a tolerance from the "
                        "spread between the runs");
  bench_cmd->add_option("--gate-runs", bench.gate_runs, "with --gate-record: runs to take the median and the spread of")
      ->capture_default_str()
      ->check(CLI::Range(2, 100));
  add_pipeline_flags(*bench_cmd, bench.pipeline, "streaming, sequential, or both (interleaved in one run, with the ratio)");
  add_engine_flags(*bench_cmd, bench.engines);
  parley::load::ws_load_options load;  // --target: drive a running server (bench/load/ws_load.hpp)
  parley::load::add_ws_load_flags(*bench_cmd, load);

  parley::app::say_options say;
  auto* say_cmd = app.add_subcommand("say", "Synthesize text with the embedded TTS and write a WAV");
  say_cmd->add_option("text", say.text, "what to say")->required();
  say_cmd->add_option("-o,--output", say.output, "output WAV")->capture_default_str();
  add_voice_flag(*say_cmd, say.engines);

  parley::app::transcribe_options transcribe;
  auto* transcribe_cmd = app.add_subcommand(
      "transcribe", "Recognize a WAV with the embedded ASR (through the same front-end as a session); "
                    "the final transcript goes to standard output");
  transcribe_cmd->add_option("input", transcribe.input, "input audio (any rate/channels)")->required();
  transcribe_cmd->add_flag("--confidence", transcribe.confidence,
                           "print the recognizer's confidence in the transcript (0..1) after it, tab-separated");
  add_faq_flag(*transcribe_cmd, transcribe.engines);
  add_asr_input_flags(*transcribe_cmd, transcribe.asr_denoise_below_snr_db, transcribe.asr_denoised);

  parley::app::serve_options serve;
  serve.pipeline.barge_in = true;  // a live client can talk over the reply
  auto* serve_cmd = app.add_subcommand(
      "serve", "Serve realtime voice sessions over WebSocket (protocol v1, docs/protocol.md), the web client, "
               "/metrics (Prometheus), /healthz and /readyz; Ctrl-C stops gracefully");
  serve_cmd->add_option("--host", serve.host, "address to listen on")->capture_default_str();
  serve_cmd->add_option("--port", serve.port, "port to listen on (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve_cmd->add_option("--token", serve.token,
                        "bearer token required for /ws, /v1/realtime, /v1/media-stream and /v1/audio/* (default: $PARLEY_TOKEN; none if unset). Clients send "
                        "'Authorization: Bearer T' or ?access_token=T");
  serve_cmd->add_flag("--metrics-token", serve.metrics_need_token, "require the token for /metrics too");
  serve_cmd->add_option("--jwt-secret-env", serve.jwt_secret_env,
                        "environment variable holding an HS256 secret: /ws then accepts JWTs signed with it (exp "
                        "required) as well as --token");
  serve_cmd->add_option("--jwt-audience", serve.jwt_audience, "with --jwt-secret-env: the `aud` a token must name");
  serve_cmd->add_option("--jwt-leeway-s", serve.jwt_leeway_s,
                        "with --jwt-secret-env: clock skew allowed on a token's exp and nbf, in seconds "
                        "(default 30)")
      ->check(CLI::Range(0, 3600));
  serve_cmd->add_option("--tls-cert", serve.tls_cert, "PEM certificate chain: serve https/wss (needs --tls-key)")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--tls-key", serve.tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  serve_cmd->add_option("--allow-origin", serve.allow_origins,
                        "allowed Origin for /ws (repeatable; '*' for any; 'self': pages of this server; default: self)");
  serve_cmd->add_option("--allowed-host", serve.allowed_hosts,
                        "a host name /ws and /metrics answer to (repeatable; '*' for any). IP addresses, "
                        "localhost and the --host name always are; a page from any other name that resolves "
                        "here (DNS rebinding) gets 403. Behind a proxy, the name clients use");
  serve_cmd->add_option("--web-root", serve.web_root, "static files served at / (default: the bundled web/)");
  serve_cmd->add_option("--max-sessions", serve.max_sessions, "concurrent WebSocket sessions; more get 503")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max()));
  serve_cmd->add_option("--max-audio-requests", serve.max_audio_requests,
                        "OpenAI audio requests (/v1/audio/transcriptions, /v1/audio/speech) answered at once; more "
                        "get 503; 0 turns the two endpoints off")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{0}, std::size_t{64}));
  serve_cmd->add_option("--max-upload-mb", serve.max_upload_mb,
                        "largest audio upload to /v1/audio/transcriptions, in MiB; larger gets 413")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1024.0));
  serve_cmd->add_option("--max-asr-backlog-ms", serve.max_asr_backlog_ms,
                        "overload admission: new sessions get 503 (Retry-After: 5) while speech recognition is "
                        "more than this far behind the live audio, until it is back under half; 0: off")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 600000.0));
  serve_cmd->add_option("--max-connections", serve.max_connections,
                        "open TCP connections; more are closed at once (default 0: the file-descriptor limit, "
                        "raised to its hard limit, less a reserve)");
  serve_cmd->add_option("--max-message-bytes", serve.max_message_bytes,
                        "largest client WebSocket message; larger closes the connection with 1009")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::numeric_limits<std::size_t>::max()));
  serve_cmd->add_option("--idle-timeout-s", serve.idle_timeout_s,
                        "ping after half of this without traffic; close if still silent (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--max-text-turns-per-minute", serve.max_text_turns_per_minute,
                        "typed turns (conversation.item.create) per session and minute, after a burst of 5; "
                        "more are dropped with a rate_limited error (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--max-input-speed", serve.max_input_speed,
                        "input audio faster than this multiple of real time (after a 2 s burst) is dropped (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--drain-s", serve.drain_s, "graceful shutdown: how long turns in flight may still finish")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_cmd->add_option("--log-level", serve.log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  add_pipeline_flags(*serve_cmd, serve.pipeline,
                     "streaming or sequential (default for every session; a client may choose per session)",
                     /*paced_input=*/false);
  serve_cmd->add_option("--transcripts", serve.engines.transcripts,
                        "mock recognizer: the transcript of each utterance, in turn (repeatable)");
  add_engine_flags(*serve_cmd, serve.engines);

  parley::app::engine_choice doctor;
  auto* doctor_cmd = app.add_subcommand(
      "doctor", "Check which engines and models are installed and working; with --assistant, the file too: its "
                "FAQ, voice, model, and that its LLM servers answer");
  add_assistant_flag(*doctor_cmd);
  add_voice_flag(*doctor_cmd, doctor);
  add_faq_flag(*doctor_cmd, doctor);
  add_local_model_flags(*doctor_cmd, doctor);

  parley::app::init_options init;
  auto* init_cmd = app.add_subcommand(
      "init", "Write an assistant file with every key at its default, each explained (edit it, then "
              "`parley run|serve|bench --assistant FILE`)");
  init_cmd->add_option("file", init.file, "where to write it ('-': standard output)")->capture_default_str();
  init_cmd->add_flag("--force", init.force, "overwrite the file if it exists");
  init_cmd->add_flag("--keys", init.keys, "print the key reference (a Markdown table) instead");

  // A first word that is no command and no flag: name it (CLI11 would only say that a subcommand
  // is required).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    std::string names;
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      known = known || sub->get_name() == word;
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "parley: unknown command '" << word << "' (commands: " << names << "; parley --help explains them)\n";
      return parley::app::exit_usage;
    }
  }
  // The assistant file sets the command's defaults; the flags, parsed next, override them.
  if (const auto file = parley::app::assistant_file_argument(argc, argv); !file.empty()) {
    pipeline_flags no_pipeline;  // doctor has none
    const struct {
      std::string_view command;
      engine_choice* engines;
      pipeline_flags* pipeline;
    } takers[] = {{"run", &run.engines, &run.pipeline},
                  {"bench", &bench.engines, &bench.pipeline},
                  {"serve", &serve.engines, &serve.pipeline},
                  {"doctor", &doctor, &no_pipeline}};
    for (const auto& taker : takers) {
      if (taker.command != argv[1]) continue;
      if (auto s = parley::app::load_assistant_file(file, *taker.engines, *taker.pipeline); !s) {
        parley::app::print_error(s.error().message);
        return parley::app::exit_bad_input;
      }
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? parley::app::exit_ok : parley::app::exit_usage;
  }
  if (*run_cmd) return parley::app::run_command(run);
  if (*bench_cmd) return load.target.empty() ? parley::app::bench_command(bench) : parley::load::ws_load_command(load, bench);
  if (*say_cmd) return parley::app::say_command(say);
  if (*transcribe_cmd) return parley::app::transcribe_command(transcribe);
  if (*doctor_cmd) return parley::app::doctor_command(doctor);
  if (*serve_cmd) return parley::app::serve_command(serve);
  if (*init_cmd) return parley::app::init_command(init);
  return parley::app::exit_usage;
}
