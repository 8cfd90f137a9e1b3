// `parley say`, `parley transcribe`, `parley doctor`: the embedded engines on their own.
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <iostream>
#include <mutex>

#include "parley/agent/clip_transcriber.hpp"
#include "parley/agent/session.hpp"
#include "parley/apps/assistant_file.hpp"
#include "parley/apps/commands.hpp"
#include "parley/apps/runtime.hpp"
#include "parley/audio/frontend.hpp"
#include "parley/audio/wav.hpp"
#include "parley/engines/espeak/espeak_synthesizer.hpp"
#include "parley/engines/flite/flite_synthesizer.hpp"
#include "parley/engines/llama/llama_chat_model.hpp"

namespace parley::app {
namespace {

constexpr auto k_engine_wait = std::chrono::seconds(120);  // bound on any single engine call here

}  // namespace

int say_command(const say_options& options) {
  if (options.text.empty()) return print_error("nothing to say: give the text to speak"), exit_usage;
  auto tts = build_tts(options.engines);
  if (!tts) return print_error(tts.error().message), exit_usage;
  const auto t0 = steady_clock::now();
  std::optional<time_point> t_first;
  std::vector<std::int16_t> pcm;
  std::mutex mutex;
  std::promise<status> done;
  (*tts)->synthesize(options.text,
                     {.on_audio =
                          [&](std::span<const std::int16_t> chunk) {
                            std::lock_guard lock(mutex);
                            if (!t_first) t_first = steady_clock::now();
                            pcm.insert(pcm.end(), chunk.begin(), chunk.end());
                          },
                      .on_done = [&](status s) { done.set_value(std::move(s)); }},
                     {});
  auto result = done.get_future();
  if (result.wait_for(k_engine_wait) != std::future_status::ready) return print_error("synthesis did not finish"), exit_failure;
  if (auto s = result.get(); !s) return print_error(s.error().describe()), exit_failure;
  const int rate = (*tts)->caps().sample_rate_hz;
  if (auto s = audio::write_wav(options.output, pcm, rate); !s) return print_error(s.error().message), exit_failure;
  std::cout << options.output << ": " << static_cast<double>(pcm.size()) / rate << " s at " << rate << " Hz · "
            << (*tts)->name() << " · first audio after " << (t_first ? to_ms(*t_first - t0) : 0.0) << " ms\n";
  return exit_ok;
}

int transcribe_command(const transcribe_options& options) {
  auto clip = audio::read_audio_file(options.input);
  if (!clip) return print_error(clip.error().message), exit_bad_input;
  runtime rt(1);
  auto responder = build_responder(options.engines, rt.executor());
  if (!responder) return print_error(responder.error().message), exit_usage;
  auto asr = build_recognizer(options.engines, (*responder)->domain_phrases());
  if (!asr) return print_error(asr.error().message), exit_failure;

  // The recognizer hears what a session's would (agent/clip_transcriber.hpp).
  auto heard = agent::transcribe_clip(**asr, clip->samples,
                                      {.frontend = options.frontend,
                                       .denoised = options.asr_denoised,
                                       .denoise_below_snr_db = options.asr_denoise_below_snr_db,
                                       .preroll_ms = agent::session_options{}.preroll_ms,
                                       .wait = k_engine_wait});
  if (!heard) return print_error(heard.error().describe()), exit_failure;
  if (heard->heard_denoised && !options.asr_denoised && heard->snr_db) {
    std::cerr << "parley: noisy input (SNR " << std::fixed << std::setprecision(1) << *heard->snr_db << " dB, below "
              << options.asr_denoise_below_snr_db << "): the recognizer hears the noise-suppressed audio\n";
  }
  if (heard->heard.text.empty()) {
    std::cerr << "parley: no speech recognised in " << options.input << "\n";
    return exit_no_speech;
  }
  std::cout << heard->heard.text;
  if (options.confidence) {
    std::cout << '\t';
    if (heard->heard.confidence) {
      std::cout << std::fixed << std::setprecision(3) << *heard->heard.confidence;
    } else {
      std::cout << '-';
    }
  }
  std::cout << "\n";
  return exit_ok;
}

namespace {

// Asks the server at `url` for one token, as a turn would (its key, headers and model).
status ask_one_token(const engine_choice& choice, const std::string& url) {
  auto model = build_llm_server(choice, url, "doctor");
  if (!model) return model.error();
  auto done = std::make_shared<std::promise<status>>();
  auto settled = std::make_shared<std::once_flag>();
  auto settle = [done, settled](status s) { std::call_once(*settled, [&] { done->set_value(std::move(s)); }); };
  engine::chat_request request;
  request.messages = {{engine::chat_role::user, "Say OK."}};
  request.max_tokens = 1;
  std::stop_source stop;
  (*model)->stream(std::move(request),
                   {.on_token = [settle](std::string_view) { settle({}); }, .on_done = [settle](status s) { settle(std::move(s)); }},
                   stop.get_token());
  auto answer = done->get_future();
  if (answer.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    stop.request_stop();
    return make_error(errc::timeout, "no answer within 20 s");
  }
  stop.request_stop();
  return answer.get();
}

// Opens a connection to the tool's endpoint (what a call would do first), bounded by its timeout.
status connect_to(const openai::tool& t, int timeout_ms) {
  if (!t.warm) return {};
  auto done = std::make_shared<std::promise<status>>();
  auto answer = done->get_future();
  t.warm([done](status s) { done->set_value(std::move(s)); });
  if (answer.wait_for(std::chrono::milliseconds(timeout_ms + 1000)) != std::future_status::ready) {
    return make_error(errc::timeout, "no connection within " + std::to_string(timeout_ms) + " ms");
  }
  return answer.get();
}

}  // namespace

int init_command(const init_options& options) {
  if (options.keys) {
    std::cout << assistant_keys_markdown();
    return exit_ok;
  }
  const std::string text = example_assistant_file();
  if (options.file == "-") {
    std::cout << text;
    return exit_ok;
  }
  std::error_code ec;
  if (std::filesystem::exists(options.file, ec) && !options.force) {
    print_error(options.file + " exists; --force overwrites it");
    return exit_usage;
  }
  std::ofstream out(options.file, std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    print_error("cannot write " + options.file);
    return exit_failure;
  }
  std::cout << "wrote " << options.file << ": every key at its default, each explained. Edit it, then:\n"
            << "  parley run IN.wav --assistant " << options.file << "\n"
            << "  parley serve --assistant " << options.file << "\n"
            << "  parley doctor --assistant " << options.file << "   (checks its FAQ, voice, model and LLM servers)\n";
  return exit_ok;
}

int doctor_command(const engine_choice& choice) {
  int n_failed = 0;
  auto check = [&](const std::string& what, const status& s, const std::string& detail = {}) {
    std::cout << (s ? "  ok    " : "  FAIL  ") << what;
    if (!s) {
      std::cout << ": " << s.error().message;
      ++n_failed;
    } else if (!detail.empty()) {
      std::cout << " — " << detail;
    }
    std::cout << "\n";
  };
  auto ok_or = [](const auto& r) -> status { return r ? status{} : status(r.error()); };

  std::cout << "parley doctor: the embedded offline stack\n";
  check("WebRTC audio front-end (noise suppression, VAD)", ok_or(audio::frontend::create()));
  runtime rt(1);
  auto responder = build_responder(choice, rt.executor());
  check("local responder + FAQ " + (choice.faq_path.empty() ? default_faq_path() : choice.faq_path), ok_or(responder),
        responder ? std::to_string((*responder)->domain_phrases().size()) + " domain phrases" : "");
  auto asr = build_recognizer(choice, responder ? (*responder)->domain_phrases() : std::vector<std::string>{});
  check("pocketsphinx en-us model (" + std::string(PARLEY_POCKETSPHINX_MODEL_DIR) + ")", ok_or(asr));
  std::string flite_voices;
  for (const auto& v : flite::flite_synthesizer::voices()) flite_voices += (flite_voices.empty() ? "" : ", ") + v;
  check("flite voice '" + (choice.voice.empty() ? flite::flite_synthesizer::default_voice() : choice.voice) + "'",
        ok_or(build_tts(choice)), "voices: " + flite_voices);
  const auto espeak = espeak::espeak_synthesizer::create({});
  check("espeak-ng (en-us)", ok_or(espeak), std::to_string(espeak::espeak_synthesizer::voices().size()) + " voices");
  const auto devices = llama::llama_chat_model::devices();
  check("llama.cpp (local LLM with --model)", ok_or(devices), devices ? *devices : "");
  if (!choice.model_path.empty()) {
    auto model = build_local_model(choice);
    check("model " + choice.model_path, ok_or(model), model ? dynamic_cast<llama::llama_chat_model&>(**model).describe() : "");
  }
  // The LLM servers (an assistant file's [llm], or none): each must answer a one-token request.
  for (const auto& [url, name] : {std::pair{choice.llm_url, std::string("LLM server")},
                                  std::pair{choice.llm_fallback_url, std::string("fallback LLM server")}}) {
    if (url.empty()) continue;
    check(name + " " + url + (choice.llm_model.empty() ? "" : " (model " + choice.llm_model + ")"), ask_one_token(choice, url));
  }
  // The shared cache tier (--cache redis): it must answer PING.
  if (choice.cache == "redis") {
    auto redis = build_redis_store(choice);
    check("Redis " + choice.redis + " (shared response cache)", redis ? (*redis)->ping() : status(redis.error()));
  }
  // The tools (an assistant file's [[tools]]): each endpoint must accept a connection.
  if (!choice.tools.empty()) {
    auto tools = build_tools(choice);
    if (!tools) {
      check("tools", status(tools.error()));
    } else {
      for (std::size_t i = 0; i < tools->size(); ++i) {
        auto& t = (*tools)[i];
        const auto& declared = choice.tools[i];
        check("tool " + t.name + " " + declared.method + " " + declared.url, connect_to(t, declared.timeout_ms), "connected");
      }
    }
  }
  std::cout << (n_failed ? "some engines are not working\n" : "everything works\n");
  return n_failed ? exit_failure : exit_ok;
}

}  // namespace parley::app
