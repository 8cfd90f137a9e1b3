#include "parley/apps/engine_factory.hpp"

#include <filesystem>
#include <memory>

#include "parley/cache/phrase_cache.hpp"
#include "parley/engines/espeak/espeak_synthesizer.hpp"
#include "parley/engines/flite/flite_synthesizer.hpp"
#include "parley/engines/intents/local_responder.hpp"
#include "parley/engines/intents/responder_chat_model.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/pocketsphinx/pocketsphinx_recognizer.hpp"

#ifndef PARLEY_DATA_DIR
#define PARLEY_DATA_DIR "data"
#endif

namespace parley::app {
namespace {
constexpr const char* k_espeak_prefix = "espeak:";
}  // namespace

result<std::shared_ptr<engine::synthesizer>> build_tts(const engine_choice& choice) {
  if (choice.voice.rfind(k_espeak_prefix, 0) == 0) {
    auto tts = espeak::espeak_synthesizer::create({.voice = choice.voice.substr(std::string(k_espeak_prefix).size())});
    if (!tts) return tts.error();
    return std::shared_ptr<engine::synthesizer>(*tts);
  }
  flite::flite_config config;
  if (!choice.voice.empty()) config.voice = choice.voice;
  auto tts = flite::flite_synthesizer::create(config);
  if (!tts) return tts.error();
  return std::shared_ptr<engine::synthesizer>(*tts);
}

result<std::shared_ptr<engine::responder>> build_responder(const engine_choice& choice,
                                                           boost::asio::any_io_executor executor) {
  auto responder = intents::local_responder::create(
      {.faq_path = choice.faq_path.empty() ? default_faq_path() : choice.faq_path, .executor = std::move(executor)});
  if (!responder) return responder.error();
  return std::shared_ptr<engine::responder>(*responder);
}

result<std::shared_ptr<engine::recognizer>> build_recognizer(const engine_choice& choice,
                                                             std::vector<std::string> domain_phrases) {
  auto asr = pocketsphinx::pocketsphinx_recognizer::create(
      {.domain_phrases = std::move(domain_phrases), .n_workers = choice.n_asr_workers,
       .n_decoders = choice.n_asr_decoders});
  if (!asr) return asr.error();
  return std::shared_ptr<engine::recognizer>(*asr);
}

namespace {

result<built_engines> build_default(const engine_choice& choice, boost::asio::any_io_executor executor) {
  built_engines out;
  auto responder = build_responder(choice, executor);
  if (!responder) return responder.error();
  intents::responder_chat_config chat_config{.executor = executor};
  const std::string fallback = chat_config.fallback_reply;
  out.responder = *responder;
  out.set.llm = std::make_shared<intents::responder_chat_model>(*responder, std::move(chat_config));

  auto asr = build_recognizer(choice, (*responder)->domain_phrases());
  if (!asr) return asr.error();
  out.set.asr = *asr;

  auto tts = build_tts(choice);
  if (!tts) return tts.error();
  auto cached = std::make_shared<cache::phrase_cache_synthesizer>(*tts, executor);
  auto phrases = cache::default_fixed_phrases();
  phrases.push_back(fallback);
  if (auto s = cached->prewarm(phrases); !s) return s.error();
  out.set.tts = cached;
  out.summary = "engines: pocketsphinx ASR (en-us, biased to " + std::to_string((*responder)->domain_phrases().size()) +
                " domain phrases) · local responder (intents + FAQ) · " + (*tts)->name() + " TTS (" +
                std::to_string(cached->size()) + " phrases pre-synthesized)";
  return out;
}

result<built_engines> build_mock(const engine_choice& choice, boost::asio::any_io_executor executor) {
  auto llm = mock::find_llm_profile(choice.llm_profile);
  if (!llm) return llm.error();
  auto tts = mock::find_tts_profile(choice.tts_profile);
  if (!tts) return tts.error();
  built_engines out;
  out.mock = true;
  out.notice = "note: running with MOCK engines: transcripts are scripted and replies are canned.";
  out.set.asr = std::make_shared<mock::mock_recognizer>(mock::recognizer_config{
      .executor = executor, .transcripts = choice.transcripts, .finalize = mock::latency_dist::fixed(choice.asr_final_ms)});
  out.set.llm = std::make_shared<mock::mock_chat_model>(
      mock::chat_config{.executor = executor, .profile = *llm, .reply = {}, .seed = choice.seed});
  out.set.tts = std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{
      .executor = executor, .ttfb = tts->ttfb, .realtime_factor = tts->realtime_factor, .seed = choice.seed + 1});
  out.summary = "engines: mock ASR (final after " + std::to_string(static_cast<int>(choice.asr_final_ms)) +
                " ms) · mock LLM '" + llm->name + "' · mock TTS '" + tts->name + "'";
  return out;
}

}  // namespace

std::string default_faq_path() {
  const std::filesystem::path bundled = std::filesystem::path(PARLEY_DATA_DIR) / "faq" / "store.json";
  return bundled.string();
}

result<built_engines> build_engines(const engine_choice& choice, boost::asio::any_io_executor executor) {
  if (choice.engines == "default") return build_default(choice, executor);
  if (choice.engines == "mock") return build_mock(choice, executor);
  return make_error(errc::invalid_argument, "unknown engines '" + choice.engines + "' (default or mock)");
}

}  // namespace parley::app
