#include "parley/apps/engine_factory.hpp"

#include <memory>

#include "parley/engines/mock/mock_engines.hpp"

namespace parley::app {

result<built_engines> build_engines(const engine_choice& choice, boost::asio::any_io_executor executor) {
  built_engines out;
  if (choice.engines == "default") {
    out.notice =
        "note: the embedded offline engines (pocketsphinx ASR, local responder, flite TTS) are not built yet; "
        "running with MOCK engines: transcripts are scripted and replies are canned.";
  } else if (choice.engines != "mock") {
    return make_error(errc::invalid_argument, "unknown engines '" + choice.engines + "' (default or mock)");
  }
  auto llm = mock::find_llm_profile(choice.llm_profile);
  if (!llm) return llm.error();
  auto tts = mock::find_tts_profile(choice.tts_profile);
  if (!tts) return tts.error();

  out.mock = true;
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

}  // namespace parley::app
