#include "parley/apps/engine_factory.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "parley/cache/memory_store.hpp"
#include "parley/core/log.hpp"
#include "parley/cache/phrase_cache.hpp"
#include "parley/cache/redis/redis_store.hpp"
#include "parley/engines/espeak/espeak_synthesizer.hpp"
#include "parley/engines/flite/flite_synthesizer.hpp"
#include "parley/engines/intents/local_responder.hpp"
#include "parley/engines/intents/responder_chat_model.hpp"
#include "parley/engines/llama/llama_chat_model.hpp"
#include "parley/engines/llama/llama_embedder.hpp"
#include "parley/engines/openai/openai_embedder.hpp"
#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/ngram/ngram_embedder.hpp"
#include "parley/engines/openai/http_tool.hpp"
#include "parley/engines/openai/openai_chat_model.hpp"
#include "parley/engines/openai/openai_speech.hpp"
#include "parley/engines/openai/realtime_recognizer.hpp"
#include "parley/routing/speech_fallback.hpp"
#include "parley/routing/fallback_chain.hpp"
#include "parley/routing/health_prober.hpp"
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
      {.faq_path = choice.faq_path.empty() ? default_faq_path() : choice.faq_path,
       .executor = std::move(executor),
       .builtin_intents = choice.intents});
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

result<std::shared_ptr<engine::chat_model>> build_local_model(const engine_choice& choice) {
  if (choice.model_path.empty()) return std::shared_ptr<engine::chat_model>();
  auto model = llama::llama_chat_model::load(
      {.model_path = choice.model_path,
       .context_tokens = choice.model_ctx,
       .threads = choice.model_threads,
       .default_max_tokens = choice.model_max_tokens});
  if (!model) return model.error();
  PARLEY_LOG(info, "local LLM: " << (*model)->describe());
  return std::shared_ptr<engine::chat_model>(std::move(*model));
}

namespace {

// The semantic cache's embedder: the built-in n-gram one, a GGUF model, or an embeddings server.
result<std::shared_ptr<engine::embedder>> build_cache_embedder(const engine_choice& choice) {
  const std::string& spec = choice.cache_embedder;
  if (spec.empty() || spec == "ngram") return std::shared_ptr<engine::embedder>(std::make_shared<ngram::ngram_embedder>());
  if (spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0) {
    openai::embedder_config config;
    config.provider.base_url = spec;
    config.provider.api_key_env = choice.llm_key_env;
    config.model = choice.cache_embedder_model;
    config.request_timeout_ms = 250;  // a lookup must be quick or be skipped (the turn goes on)
    auto e = openai::openai_embedder::create(std::move(config));
    if (!e) return make_error(e.error().code, "--cache-embedder: " + e.error().message);
    (void)(*e)->warm();  // best effort: the cache works around a server that is not up yet
    return std::shared_ptr<engine::embedder>(std::move(*e));
  }
  auto e = llama::llama_embedder::load({.model_path = spec});
  if (!e) return make_error(e.error().code, "--cache-embedder: " + e.error().message);
  return std::shared_ptr<engine::embedder>(std::move(*e));
}

}  // namespace

result<std::shared_ptr<cache::response_cache>> build_response_cache(const engine_choice& choice) {
  if (choice.cache == "off") return std::shared_ptr<cache::response_cache>();
  auto embedder = build_cache_embedder(choice);
  if (!embedder) return embedder.error();
  cache::response_cache_config config;
  // The substitution guard embeds single words per candidate: microseconds with the n-gram
  // embedder, a request or a model pass each with any other, so it always uses the n-gram one.
  if (!(*embedder)->quick()) config.word_embedder = std::make_shared<ngram::ngram_embedder>();
  if (choice.cache_threshold > 0.0) {
    for (auto& [name, policy] : config.classes) {
      if (policy.threshold < 1.0) policy.threshold = std::min(1.0, choice.cache_threshold + (name == "time_sensitive" ? 0.075 : 0.0));
    }
    config.default_policy.threshold = choice.cache_threshold;
  }
  std::shared_ptr<cache::entry_store> shared;
  if (choice.cache == "redis") {
    auto redis = build_redis_store(choice);
    if (!redis) return redis.error();
    // The start-up check: the cache fails open, so an unreachable Redis costs no turn, but it is
    // named now rather than discovered in the metrics.
    if (auto up = (*redis)->ping(); !up) {
      PARLEY_LOG(warn, "Redis " << choice.redis << " is unreachable at start-up: " << up.error().message
                                << "; the response cache works from this instance's memory until it answers");
    }
    shared = std::move(*redis);
  } else if (choice.cache != "memory") {
    return make_error(errc::invalid_argument, "unknown cache '" + choice.cache + "' (off, memory or redis)");
  }
  auto cache = cache::response_cache::create(std::move(config), std::move(*embedder),
                                             std::make_shared<cache::memory_store>(), std::move(shared));
  if (!cache) return cache.error();
  return std::shared_ptr<cache::response_cache>(std::move(*cache));
}

// Header values read from the environment variables the file names (secrets stay out of files).
static result<std::vector<std::pair<std::string, std::string>>> headers_from_environment(
    const std::vector<std::pair<std::string, std::string>>& named, const std::string& whose) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [header, env] : named) {
    const char* value = std::getenv(env.c_str());
    if (value == nullptr || *value == '\0') {
      return make_error(errc::invalid_argument, whose + " header " + header + ": its environment variable " + env + " is not set");
    }
    out.emplace_back(header, value);
  }
  return out;
}

// An OpenAI-compatible server as a chat model (with the tools it may call), its connection opened
// ahead of the first turn.
static result<std::shared_ptr<openai::openai_chat_model>> build_openai_model(const engine_choice& choice, std::string url,
                                                                      std::string name) {
  openai::chat_config config;
  config.provider.base_url = std::move(url);
  config.provider.api_key_env = choice.llm_key_env;
  config.provider.name = std::move(name);
  config.model = choice.llm_model;
  config.max_tokens = choice.llm_max_tokens;
  config.temperature = choice.llm_temperature;
  auto headers = headers_from_environment(choice.llm_headers, "LLM");
  if (!headers) return headers.error();
  config.provider.headers = std::move(*headers);
  auto tools = build_tools(choice);
  if (!tools) return tools.error();
  // The start-up check: every endpoint is connected to now, in the background (the first turn
  // pays no DNS, connect or TLS handshake), and one that cannot be reached is named in the log at
  // once rather than at the first turn that needs it (docs/reliability.md).
  for (auto& t : *tools) {
    if (!t.warm) continue;
    t.warm([name = t.name](status s) {
      if (!s) {
        PARLEY_LOG(warn, "tool " << name << " is unreachable at start-up: " << s.error().message
                                 << "; calls to it fail (and the reply says so) until it answers");
      }
    });
  }
  config.tools = std::move(*tools);
  const std::string where = "LLM server " + config.provider.name + " (" + config.provider.base_url + ")";
  auto model = openai::openai_chat_model::create(std::move(config));
  if (!model) return make_error(model.error().code, "--llm-url: " + model.error().message);
  (*model)->warm([where](status s) {
    if (!s) {
      PARLEY_LOG(warn, where << " is unreachable at start-up: " << s.error().message
                             << "; its turns go to the fallback, or get the apology, until it answers");
    }
  });
  return std::move(*model);
}

result<std::unique_ptr<cache::redis_store>> build_redis_store(const engine_choice& choice) {
  const auto colon = choice.redis.rfind(':');
  int port = 0;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(choice.redis.substr(colon + 1));
    } catch (const std::exception&) {
      port = 0;
    }
  }
  if (colon == std::string::npos || colon == 0 || port <= 0 || port > 65535) {
    return make_error(errc::invalid_argument, "--redis wants HOST:PORT, got '" + choice.redis + "'");
  }
  return cache::redis_store::create({.host = choice.redis.substr(0, colon), .port = port});
}

result<std::vector<openai::tool>> build_tools(const engine_choice& choice) {
  std::vector<openai::tool> tools;
  for (const auto& declared : choice.tools) {
    auto tool_headers = headers_from_environment(declared.headers, "tool " + declared.name);
    if (!tool_headers) return tool_headers.error();
    auto t = openai::make_http_tool({.name = declared.name,
                                     .description = declared.description,
                                     .parameters_schema = declared.parameters,
                                     .url = declared.url,
                                     .method = declared.method,
                                     .timeout_ms = declared.timeout_ms,
                                     .headers = std::move(*tool_headers)});
    if (!t) return t.error();
    tools.push_back(std::move(*t));
  }
  return tools;
}

result<std::shared_ptr<engine::chat_model>> build_llm_server(const engine_choice& choice, const std::string& url,
                                                             std::string name) {
  auto model = build_openai_model(choice, url, std::move(name));
  if (!model) return model.error();
  return std::shared_ptr<engine::chat_model>(std::move(*model));
}

namespace {

// The LLM tier: one server, or two behind a fallback chain (with hedging when --hedge-ms is set),
// whose unhealthy servers are probed in the background (out.prober).
result<std::shared_ptr<engine::chat_model>> build_openai_llm(const engine_choice& choice,
                                                             boost::asio::any_io_executor executor, built_engines& out) {
  if (choice.llm_tier != "local" && choice.llm_tier != "cloud") {
    return make_error(errc::invalid_argument, "unknown LLM tier '" + choice.llm_tier + "' (local or cloud)");
  }
  auto primary = build_openai_model(choice, choice.llm_url, choice.llm_tier);
  if (!primary) return primary.error();
  if (choice.llm_fallback_url.empty()) return std::shared_ptr<engine::chat_model>(*primary);
  auto fallback = build_openai_model(choice, choice.llm_fallback_url, choice.llm_tier + "-fallback");
  if (!fallback) return fallback.error();
  routing::fallback_chain_config config{.executor = executor};
  if (choice.hedge_ms > 0.0) {
    config.hedge = {.mode = routing::hedge_mode::fixed, .delay_ms = choice.hedge_ms, .budget = choice.hedge_budget};
  }
  const auto& clk = steady_clock_source::instance();
  std::vector<routing::chain_provider> providers{
      {"primary", *primary, std::make_shared<routing::provider_health>(clk)},
      {"fallback", *fallback, std::make_shared<routing::provider_health>(clk)}};
  auto prober = routing::health_prober::create(routing::prober_config{.executor = executor}, providers);
  if (!prober) return prober.error();
  auto chain = routing::fallback_chain::create(std::move(config), std::move(providers));
  if (!chain) return chain.error();
  out.prober = std::move(*prober);
  out.prober->start();
  return std::shared_ptr<engine::chat_model>(std::move(*chain));
}

// The router every session of this engine set shares. Routing and cache I/O run on a small pool
// of their own, so a slow shared tier never holds up the session threads.
status add_router(built_engines& out, const engine_choice& choice, agent::turn_router_parts parts,
                  std::string fallback_reply) {
  auto privacy = routing::parse_privacy_policy(choice.privacy);
  if (!privacy) return privacy.error();
  agent::turn_router_config config;
  // The local responder's own threshold (intents::responder_chat_config), chosen with its FAQ.
  config.policy.intent_threshold = intents::responder_chat_config{}.threshold;
  config.policy.privacy = *privacy;
  config.policy.llm_first_token_budget_ms = choice.llm_first_token_budget_ms;
  if (auto s = routing::validate(config.policy); !s) return s.error();
  if (!fallback_reply.empty()) config.fallback_reply = std::move(fallback_reply);
  if (!out.router_pool) out.router_pool = std::make_shared<boost::asio::thread_pool>(2);
  parts.cache = out.cache;
  out.router = std::make_shared<agent::turn_router>(std::move(parts), std::move(config), out.router_pool->get_executor());
  return {};
}

// What the local responder says when it cannot answer and no LLM is behind it: the assistant
// file's sentence, or one naming what it can do, with the FAQ's own topic ("the store", "the
// restaurant"), never the bundled example's when another FAQ is loaded.
std::string fallback_reply(const engine_choice& choice, const engine::responder& responder) {
  if (!choice.fallback_reply.empty()) return choice.fallback_reply;
  const auto* local = dynamic_cast<const intents::local_responder*>(&responder);
  return intents::fallback_reply_for(local != nullptr && local->faq() != nullptr ? local->faq()->topic() : "");
}

namespace {

/// The speech provider of `url` (`choice`'s models, voice and key), its connection opened now; a
/// provider that cannot be reached yet is only a warning (the embedded engine answers meanwhile).
openai::speech_config speech_provider_config(const engine_choice& choice, const std::string& url) {
  openai::speech_config c;
  c.provider.base_url = url;
  c.provider.api_key_env = choice.speech_key_env;
  c.asr_model = choice.asr_model;
  c.tts_model = choice.tts_model;
  c.voice = choice.tts_voice;
  // The fallback decides when a provider is late; these only bound a request that hangs.
  c.transcription_timeout_ms = static_cast<int>(std::max(5000.0, 2 * choice.asr_budget_ms));
  c.first_audio_timeout_ms = static_cast<int>(std::max(3000.0, 2 * choice.tts_budget_ms));
  return c;
}

void log_speech_outcome(std::string_view what, const routing::speech_outcome& o) {
  if (o.fell_back) {
    PARLEY_LOG(warn, "speech: the " << what << " fell back to " << o.served_by << " after "
                                    << static_cast<long>(o.lost_ms) << " ms (" << o.why << ")");
  }
}

/// `embedded` behind the provider at `url` (Provider: openai_recognizer or openai_synthesizer;
/// Chain: routing's fallback of that engine kind), or `embedded` alone when `url` is empty.
template <class Engine, class Provider, class Chain>
result<std::shared_ptr<Engine>> behind_provider(const engine_choice& choice, const std::string& url, std::string_view flag,
                                                std::string_view what, double budget_ms, std::shared_ptr<Engine> embedded,
                                                boost::asio::any_io_executor executor) {
  if (url.empty()) return embedded;
  auto provider = Provider::create(speech_provider_config(choice, url));
  if (!provider) return make_error(errc::invalid_argument, std::string(flag) + ": " + provider.error().message);
  if (auto s = (*provider)->warm(); !s) PARLEY_LOG(warn, "speech: " << url << " cannot be reached yet: " << s.error().describe());
  const auto health = [] { return std::make_shared<routing::provider_health>(steady_clock_source::instance()); };
  auto chain = Chain::create({.executor = std::move(executor),
                              .budget_ms = budget_ms,
                              .on_outcome = [what](const routing::speech_outcome& o) { log_speech_outcome(what, o); }},
                             {{url, *provider, health()}, {"embedded", std::move(embedded), health()}});
  if (!chain) return chain.error();
  return std::shared_ptr<Engine>(*chain);
}

}  // namespace

result<built_engines> build_default(const engine_choice& choice, boost::asio::any_io_executor executor,
                                    const shared_parts& shared) {
  built_engines out;
  out.cache = shared.cache;
  out.router_pool = shared.router_pool;
  out.local_model = shared.local_model;
  auto responder = build_responder(choice, executor);
  if (!responder) return responder.error();
  intents::responder_chat_config chat_config{.executor = executor};
  chat_config.fallback_reply = fallback_reply(choice, **responder);
  const std::string fallback = chat_config.fallback_reply;
  out.responder = *responder;
  out.set.llm = std::make_shared<intents::responder_chat_model>(*responder, std::move(chat_config));

  auto embedded_asr = build_recognizer(choice, (*responder)->domain_phrases());
  if (!embedded_asr) return embedded_asr.error();
  // ws(s)://: streamed to a Realtime transcription session; http(s)://: posted when the turn ends.
  auto asr = openai::is_realtime_url(choice.asr_url)
                 ? behind_provider<engine::recognizer, openai::realtime_recognizer, routing::fallback_recognizer>(
                       choice, choice.asr_url, "--asr-url", "recognizer", choice.asr_budget_ms, *embedded_asr, executor)
                 : behind_provider<engine::recognizer, openai::openai_recognizer, routing::fallback_recognizer>(
                       choice, choice.asr_url, "--asr-url", "recognizer", choice.asr_budget_ms, *embedded_asr, executor);
  if (!asr) return asr.error();
  out.set.asr = *asr;

  auto embedded_tts = build_tts(choice);
  if (!embedded_tts) return embedded_tts.error();
  auto tts = behind_provider<engine::synthesizer, openai::openai_synthesizer, routing::fallback_synthesizer>(
      choice, choice.tts_url, "--tts-url", "voice", choice.tts_budget_ms, *embedded_tts, executor);
  if (!tts) return tts.error();
  auto cached = std::make_shared<cache::phrase_cache_synthesizer>(*tts, executor);
  auto phrases = cache::default_fixed_phrases();
  phrases.push_back(fallback);
  if (auto s = cached->prewarm(phrases); !s) return s.error();
  out.set.tts = cached;
  // The phrases parley says on its own (fillers, the apology), word by word, in the phrase cache's
  // voice; built even with --no-fillers, as a failed reply always ends with the apology.
  auto fillers = agent::build_filler_bank(*cached);
  if (!fillers) return fillers.error();
  out.fillers = std::move(*fillers);
  agent::turn_router_parts parts{.responder = *responder};
  std::string llm_summary;
  if (!choice.model_path.empty()) {
    if (!choice.llm_url.empty() && choice.llm_tier == "local") {
      return make_error(errc::invalid_argument,
                        "--model is the local LLM tier already; give --llm-url's server --llm-tier cloud");
    }
    if (!out.local_model) {
      auto model = build_local_model(choice);
      if (!model) return model.error();
      out.local_model = *model;
    }
    parts.local_llm = out.local_model;
    llm_summary = " · LLM " + out.local_model->name() + " (local, embedded)";
  }
  if (!choice.llm_url.empty()) {
    auto llm = build_openai_llm(choice, executor, out);
    if (!llm) return llm.error();
    (choice.llm_tier == "local" ? parts.local_llm : parts.cloud_llm) = *llm;
    llm_summary += " · LLM " + (*llm)->name() + " at " + choice.llm_url +
                   (choice.llm_fallback_url.empty() ? "" : ", fallback " + choice.llm_fallback_url) + " (" + choice.llm_tier + ")";
  }
  if (!choice.tools.empty()) {
    std::string names;
    for (const auto& t : choice.tools) names += (names.empty() ? "" : ", ") + t.name;
    if (choice.llm_url.empty()) {
      out.notice = "note: the tools (" + names + ") are called by an LLM server only; this assistant has none ([llm] url)";
    } else {
      llm_summary += " · tools: " + names;
    }
  }
  if (auto s = add_router(out, choice, std::move(parts), fallback); !s) return s.error();
  const std::string asr_provider = choice.asr_url.empty() ? "" : (*asr)->name().substr(0, (*asr)->name().find(" → ")) + " → ";
  out.summary = "engines: " + asr_provider + "pocketsphinx ASR (en-us, biased to " + std::to_string((*responder)->domain_phrases().size()) +
                " domain phrases) · local responder (intents + FAQ) · " + (*tts)->name() + " TTS (" +
                std::to_string(cached->size()) + " phrases pre-synthesized)" + llm_summary;
  return out;
}

result<built_engines> build_mock(const engine_choice& choice, boost::asio::any_io_executor executor,
                                 const shared_parts& shared) {
  auto llm = mock::find_llm_profile(choice.llm_profile);
  if (!llm) return llm.error();
  auto tts = mock::find_tts_profile(choice.tts_profile);
  if (!tts) return tts.error();
  built_engines out;
  out.cache = shared.cache;
  out.router_pool = shared.router_pool;
  out.mock = true;
  out.notice = "note: running with MOCK engines: transcripts are scripted and replies are canned.";
  out.set.asr = std::make_shared<mock::mock_recognizer>(mock::recognizer_config{
      .executor = executor, .transcripts = choice.transcripts, .finalize = mock::latency_dist::fixed(choice.asr_final_ms)});
  out.set.llm = std::make_shared<mock::mock_chat_model>(
      mock::chat_config{.executor = executor, .profile = *llm, .reply = {}, .seed = choice.seed});
  out.fillers = shared.fillers;
  if (!out.fillers) {  // the mock voice, pre-synthesized at once (no latency at start-up)
    mock::mock_synthesizer voice(mock::synthesizer_config{.executor = executor});
    auto fillers = agent::build_filler_bank(voice);
    if (!fillers) return fillers.error();
    out.fillers = std::move(*fillers);
  }
  out.set.tts = std::make_shared<mock::mock_synthesizer>(mock::synthesizer_config{
      .executor = executor, .ttfb = tts->ttfb, .realtime_factor = tts->realtime_factor, .seed = choice.seed + 1});
  // The mock LLM stands for a cloud provider; there is no local responder (it would answer the
  // corpus's intent questions itself and hide the LLM path the benchmarks measure).
  if (out.cache) {
    if (auto s = add_router(out, choice, {.cloud_llm = out.set.llm}, ""); !s) return s.error();
  }
  out.summary = "engines: mock ASR (final after " + std::to_string(static_cast<int>(choice.asr_final_ms)) +
                " ms) · mock LLM '" + llm->name + "' · mock TTS '" + tts->name + "'";
  return out;
}

}  // namespace

std::string default_faq_path() {
  const std::filesystem::path bundled = std::filesystem::path(PARLEY_DATA_DIR) / "faq" / "store.json";
  return bundled.string();
}

result<built_engines> build_engines(const engine_choice& choice, boost::asio::any_io_executor executor,
                                    shared_parts shared) {
  if (choice.engines != "default" && choice.engines != "mock") {
    return make_error(errc::invalid_argument, "unknown engines '" + choice.engines + "' (default or mock)");
  }
  if (!shared.cache) {
    auto built = build_response_cache(choice);
    if (!built) return built.error();
    shared.cache = std::move(*built);
  }
  auto out = choice.engines == "default" ? build_default(choice, executor, shared) : build_mock(choice, executor, shared);
  if (out && out->cache) out->summary += " · response cache: " + choice.cache;
  return out;
}

}  // namespace parley::app
