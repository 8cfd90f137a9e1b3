#include "parley/engines/espeak/espeak_synthesizer.hpp"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <utility>

#include "parley/audio/resampler.hpp"
#include "parley/text/utf8.hpp"

namespace parley::espeak {
namespace {

constexpr int k_buffer_ms = 20;  // asked of espeak-ng; it delivers chunks of its own size anyway
constexpr int k_min_output_rate_hz = 8000, k_max_output_rate_hz = 48000;
constexpr int k_min_wpm = 80, k_max_wpm = 450, k_default_wpm = 175;

// ---------------------------------------------------------------------------------------------
// The espeak-ng library state. Only the engine thread touches it, always holding g_api_mutex
// (which also orders an old engine thread's last call before a new engine thread's first).

std::mutex g_api_mutex;

struct library_state {
  bool initialized = false;
  std::string data_dir;       // as given to the first successful initialisation ("" = default)
  int sample_rate_hz = 0;
  std::string voice;          // selected now
  int wpm = -1;               // rate set now (-1: unknown)
};
library_state g_lib;  // guarded by g_api_mutex

struct job_context;
job_context* g_current = nullptr;  // the request being synthesized; guarded by g_api_mutex
// True on the engine thread while espeak-ng runs a synthesis (and so calls on_audio) with
// g_api_mutex held: create() and voices() called from on_audio must not wait for that mutex.
thread_local bool t_inside_synthesis = false;

std::string status_message(espeak_ng_STATUS status) {
  char buffer[512] = {};
  espeak_ng_GetStatusCodeMessage(status, buffer, sizeof buffer);
  return buffer;
}

bool iequals(std::string_view a, std::string_view b) {
  auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return low(x) == low(y); });
}

/// The languages of a listed voice: a priority byte, then a name, repeated; ends with a 0 byte.
std::vector<std::string> voice_languages(const espeak_VOICE& v) {
  std::vector<std::string> out;
  if (v.languages == nullptr) return out;
  for (const char* p = v.languages; *p != '\0';) {
    ++p;  // priority
    const std::string lang(p);
    if (lang.empty()) break;
    out.push_back(lang);
    p += lang.size() + 1;
  }
  return out;
}

int synth_callback(short* wav, int n_samples, espeak_EVENT* events);

/// Initialises espeak-ng once per process. Caller holds g_api_mutex.
status ensure_initialized(const std::string& data_dir) {
  if (!data_dir.empty()) {
    // espeak-ng silently falls back to its built-in path when the folder is wrong: check first.
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(fs::path(data_dir) / "phontab", ec) && !fs::exists(fs::path(data_dir) / "espeak-ng-data" / "phontab", ec)) {
      return make_error(errc::not_found, "espeak-ng data folder '" + data_dir +
                                             "' not found or incomplete (no phontab); install espeak-ng-data or fix the path");
    }
  }
  if (g_lib.initialized) {
    if (!data_dir.empty() && data_dir != g_lib.data_dir) {
      return make_error(errc::invalid_argument, "espeak-ng is already initialised with data folder '" +
                                                    (g_lib.data_dir.empty() ? std::string("(default)") : g_lib.data_dir) +
                                                    "', not '" + data_dir + "'; one process uses one folder");
    }
    return {};
  }
  espeak_ng_InitializePath(data_dir.empty() ? nullptr : data_dir.c_str());
  espeak_ng_ERROR_CONTEXT context = nullptr;
  const espeak_ng_STATUS init = espeak_ng_Initialize(&context);
  if (context != nullptr) espeak_ng_ClearErrorContext(&context);
  if (init != ENS_OK) {
    return make_error(errc::engine_failure, "espeak-ng could not initialise (" + status_message(init) +
                                                "); is the espeak-ng-data package installed?");
  }
  const espeak_ng_STATUS output = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, k_buffer_ms, nullptr);
  if (output != ENS_OK) {
    return make_error(errc::engine_failure, "espeak-ng output could not initialise (" + status_message(output) + ")");
  }
  espeak_SetSynthCallback(&synth_callback);
  g_lib.initialized = true;
  g_lib.data_dir = data_dir;
  g_lib.sample_rate_hz = espeak_ng_GetSampleRate();
  return {};
}

struct resolved_voice {
  std::string id;        // what espeak_ng_SetVoiceByName accepts
  std::string language;  // "en-us"
};

/// Finds a voice by language code, identifier or name. Caller holds g_api_mutex, initialised.
result<resolved_voice> resolve_voice(const std::string& wanted) {
  if (wanted.empty()) return make_error(errc::invalid_argument, "espeak-ng: empty voice name");
  resolved_voice r;
  const std::string base = wanted.substr(0, wanted.find('+'));
  const std::string variant = wanted.size() > base.size() ? wanted.substr(base.size()) : std::string();
  const espeak_VOICE** list = espeak_ListVoices(nullptr);
  std::set<std::string> known;
  for (const espeak_VOICE** v = list; v != nullptr && *v != nullptr; ++v) {
    const auto langs = voice_languages(**v);
    if (!langs.empty()) known.insert(langs.front());
    const bool match = std::ranges::any_of(langs, [&](const std::string& l) { return iequals(l, base); }) ||
                       ((*v)->name != nullptr && iequals((*v)->name, base)) ||
                       ((*v)->identifier != nullptr && iequals((*v)->identifier, base));
    if (match && r.id.empty()) {
      r.language = langs.empty() ? base : langs.front();
      for (const auto& l : langs) {
        if (iequals(l, base)) r.language = l;
      }
      // A language code espeak-ng accepts as a name is kept as given ("en-us"); others go by
      // their voice file ("gmw/en" for "en-gb").
      r.id = (espeak_ng_SetVoiceByName((base + variant).c_str()) == ENS_OK)
                 ? base + variant
                 : std::string((*v)->identifier) + variant;
    }
  }
  if (r.id.empty() && espeak_ng_SetVoiceByName(wanted.c_str()) == ENS_OK) {
    r.id = wanted;  // e.g. a voice file path espeak-ng knows but does not list
    r.language = base;
  }
  if (r.id.empty()) {
    std::string names;
    for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
    return make_error(errc::not_found, "espeak-ng has no voice '" + wanted + "' (languages: " + names + ")");
  }
  const espeak_ng_STATUS st = espeak_ng_SetVoiceByName(r.id.c_str());
  if (st != ENS_OK) {
    return make_error(errc::not_found, "espeak-ng cannot load voice '" + wanted + "' (" + status_message(st) + ")");
  }
  g_lib.voice = r.id;
  return r;
}

// ---------------------------------------------------------------------------------------------
// The engine thread: runs tasks one at a time, in order.

struct engine_core {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void()>> tasks;  // unbounded here; each instance bounds its own share
  bool stopping = false;
};

void engine_main(std::shared_ptr<engine_core> core) {  // NOLINT: the copy keeps the core alive
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(core->mutex);
      core->cv.wait(lock, [&] { return core->stopping || !core->tasks.empty(); });
      if (core->tasks.empty()) return;
      task = std::move(core->tasks.front());
      core->tasks.pop_front();
    }
    task();
    // `task` is destroyed here, on this thread: it may hold the last reference to an instance,
    // and so to the engine handle, whose destructor then detaches this thread.
  }
}

class engine_handle {
 public:
  engine_handle() : core_(std::make_shared<engine_core>()), thread_(engine_main, core_) {}
  ~engine_handle() {
    {
      std::lock_guard lock(core_->mutex);
      core_->stopping = true;
    }
    core_->cv.notify_all();
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
    else thread_.join();
  }
  engine_handle(const engine_handle&) = delete;
  engine_handle& operator=(const engine_handle&) = delete;

  bool on_engine_thread() const { return thread_.get_id() == std::this_thread::get_id(); }

  void post(std::function<void()> task) {
    // A local reference: the task may run and release this handle before notify_one() returns.
    const std::shared_ptr<engine_core> core = core_;
    {
      std::lock_guard lock(core->mutex);
      core->tasks.push_back(std::move(task));
    }
    core->cv.notify_one();
  }

  /// Runs fn on the engine thread (inline when already there) and returns its result.
  template <class F>
  auto call(F fn) -> decltype(fn()) {
    if (on_engine_thread()) return fn();
    auto task = std::make_shared<std::packaged_task<decltype(fn())()>>(std::move(fn));
    auto future = task->get_future();
    post([task] { (*task)(); });
    return future.get();
  }

 private:
  std::shared_ptr<engine_core> core_;
  std::thread thread_;
};

/// The process's engine thread, started on first use and ended with its last user.
std::shared_ptr<engine_handle> acquire_engine() {
  static std::mutex mutex;
  static std::weak_ptr<engine_handle> current;
  std::lock_guard lock(mutex);
  if (auto e = current.lock()) return e;
  auto e = std::make_shared<engine_handle>();
  current = e;
  return e;
}

struct request {
  std::string text;
  engine::synthesizer_events events;
  std::stop_token stop;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
struct espeak_synthesizer::client {
  espeak_config config;
  std::string voice_id;
  std::string language;
  bool english = false;
  int native_rate_hz = 0;
  int out_rate_hz = 0;
  std::shared_ptr<engine_handle> engine;

  std::atomic<bool> closed{false};
  mutable std::mutex mutex;
  std::condition_variable cv;
  std::size_t n_outstanding = 0;              // under mutex
  std::optional<audio::resampler> resampler;  // engine thread only
};

namespace {

using client = espeak_synthesizer::client;

struct job_context {
  client* c = nullptr;
  request* req = nullptr;
  bool stopped = false;
  bool callback_threw = false;
};

void deliver(job_context& ctx, std::span<const std::int16_t> pcm) {
  if (pcm.empty() || !ctx.req->events.on_audio) return;
  try {
    ctx.req->events.on_audio(pcm);
  } catch (...) {
    ctx.callback_threw = true;  // never unwind through espeak-ng's C frames
  }
}

int synth_callback(short* wav, int n_samples, espeak_EVENT* /*events*/) {
  job_context* ctx = g_current;
  if (ctx == nullptr) return 0;
  if (ctx->callback_threw || ctx->req->stop.stop_requested() || ctx->c->closed.load(std::memory_order_relaxed)) {
    ctx->stopped = !ctx->callback_threw;
    return 1;  // abort synthesis
  }
  if (wav == nullptr || n_samples <= 0) return 0;  // wav == nullptr: the end
  const std::span<const std::int16_t> pcm(wav, static_cast<std::size_t>(n_samples));
  auto& rs = ctx->c->resampler;
  if (rs) {
    const std::vector<std::int16_t> out = rs->process(pcm);
    deliver(*ctx, out);
  } else {
    deliver(*ctx, pcm);
  }
  return ctx->callback_threw ? 1 : 0;
}

void finish(request& r, status s) {
  if (!r.events.on_done) return;
  try {
    r.events.on_done(std::move(s));
  } catch (...) {
    // A throwing on_done must not take the engine thread down.
  }
}

bool has_word(std::string_view text) {
  while (!text.empty()) {
    const auto cp = text::decode_utf8(text);
    text.remove_prefix(cp.n_bytes);
    if (cp.status != text::utf8_status::valid) continue;
    const char32_t v = cp.value;
    if (v >= 0x80 ? !(v >= 0x2000 && v <= 0x2BFF) && v != 0xFFFD && !(v >= 0x1F000 && v <= 0x1FAFF)
                  : ((v >= '0' && v <= '9') || (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z'))) {
      return true;
    }
  }
  return false;
}

/// Runs one request on the engine thread.
void run_request(client& c, request& r) {
  std::unique_lock api(g_api_mutex);
  if (r.stop.stop_requested() || c.closed.load()) {
    api.unlock();
    return finish(r, make_error(errc::cancelled, "synthesis cancelled before it started"));
  }
  if (g_lib.voice != c.voice_id) {
    if (const espeak_ng_STATUS st = espeak_ng_SetVoiceByName(c.voice_id.c_str()); st != ENS_OK) {
      g_lib.voice.clear();
      api.unlock();
      return finish(r, make_error(errc::engine_failure, "espeak-ng cannot select voice '" + c.voice_id + "': " +
                                                            status_message(st)));
    }
    g_lib.voice = c.voice_id;
    g_lib.wpm = -1;  // a voice change resets the rate
  }
  const int wpm = c.config.words_per_minute == 0 ? k_default_wpm : c.config.words_per_minute;
  if (g_lib.wpm != wpm) {
    espeak_ng_SetParameter(espeakRATE, wpm, 0);
    g_lib.wpm = wpm;
  }
  std::string text = c.english && c.config.normalize_text ? text::normalize_for_speech(r.text, c.config.normalize) : r.text;
  text = text::sanitize_utf8(text, " ");
  if (!has_word(text)) {
    api.unlock();
    return finish(r, {});  // nothing to say: no audio, success
  }
  job_context ctx{&c, &r};
  g_current = &ctx;
  t_inside_synthesis = true;
  const espeak_ng_STATUS st = espeak_ng_Synthesize(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                                   espeakCHARS_UTF8 | espeakENDPAUSE, nullptr, nullptr);
  t_inside_synthesis = false;
  g_current = nullptr;
  if (ctx.stopped || ctx.callback_threw) espeak_ng_Cancel();  // drop whatever espeak-ng still holds
  api.unlock();
  if (ctx.callback_threw) {
    if (c.resampler) c.resampler->reset();
    return finish(r, make_error(errc::internal, "espeak: on_audio threw; synthesis abandoned"));
  }
  if (ctx.stopped) {
    if (c.resampler) c.resampler->reset();
    return finish(r, make_error(errc::cancelled, "synthesis cancelled"));
  }
  if (st != ENS_OK) {
    if (c.resampler) c.resampler->reset();
    return finish(r, make_error(errc::engine_failure, "espeak-ng synthesis failed: " + status_message(st)));
  }
  if (c.resampler) deliver(ctx, c.resampler->flush());
  if (ctx.callback_threw) return finish(r, make_error(errc::internal, "espeak: on_audio threw; synthesis abandoned"));
  finish(r, {});
}

}  // namespace

// ---------------------------------------------------------------------------------------------
std::vector<std::string> espeak_synthesizer::voices() {
  if (t_inside_synthesis) return {};  // called from on_audio: espeak-ng is busy on this thread
  auto engine = acquire_engine();
  return engine->call([] {
    std::vector<std::string> out;
    std::lock_guard api(g_api_mutex);
    if (!ensure_initialized({})) return out;
    std::set<std::string> langs;
    for (const espeak_VOICE** v = espeak_ListVoices(nullptr); v != nullptr && *v != nullptr; ++v) {
      for (auto& l : voice_languages(**v)) langs.insert(std::move(l));
    }
    out.assign(langs.begin(), langs.end());
    return out;
  });
}

result<std::shared_ptr<espeak_synthesizer>> espeak_synthesizer::create(espeak_config config) {
  if (config.output_rate_hz != 0 &&
      (config.output_rate_hz < k_min_output_rate_hz || config.output_rate_hz > k_max_output_rate_hz)) {
    return make_error(errc::invalid_argument, "espeak: output_rate_hz must be 0 (native) or 8000..48000");
  }
  if (config.words_per_minute != 0 && (config.words_per_minute < k_min_wpm || config.words_per_minute > k_max_wpm)) {
    return make_error(errc::invalid_argument, "espeak: words_per_minute must be 0 (default) or 80..450");
  }
  if (config.max_queued < 1) return make_error(errc::invalid_argument, "espeak: max_queued must be at least 1");
  if (t_inside_synthesis) {
    return make_error(errc::invalid_argument, "espeak: create() cannot be called from inside on_audio");
  }

  auto c = std::make_shared<client>();
  try {
    c->engine = acquire_engine();
  } catch (const std::system_error& e) {
    return make_error(errc::engine_failure, std::string("espeak: cannot start the engine thread: ") + e.what());
  }
  auto setup = c->engine->call([&config]() -> result<std::pair<resolved_voice, int>> {
    std::lock_guard api(g_api_mutex);
    if (auto init = ensure_initialized(config.data_dir); !init) return init.error();
    auto voice = resolve_voice(config.voice);
    if (!voice) return voice.error();
    return std::pair{std::move(*voice), g_lib.sample_rate_hz};
  });
  if (!setup) return setup.error();
  c->voice_id = setup->first.id;
  c->language = setup->first.language;
  c->english = c->language.size() >= 2 && iequals(c->language.substr(0, 2), "en") &&
               (c->language.size() == 2 || c->language[2] == '-');
  c->native_rate_hz = setup->second;
  c->out_rate_hz = config.output_rate_hz == 0 ? c->native_rate_hz : config.output_rate_hz;
  if (c->out_rate_hz != c->native_rate_hz) {
    auto rs = audio::resampler::create(c->native_rate_hz, c->out_rate_hz);
    if (!rs) return rs.error();
    c->resampler.emplace(std::move(*rs));
  }
  c->config = std::move(config);
  return std::shared_ptr<espeak_synthesizer>(new espeak_synthesizer(std::move(c)));
}

espeak_synthesizer::espeak_synthesizer(std::shared_ptr<client> c) : client_(std::move(c)) {}

espeak_synthesizer::~espeak_synthesizer() {
  client_->closed.store(true);
  if (client_->engine->on_engine_thread()) return;  // inside a callback: the rest complete right after
  std::unique_lock lock(client_->mutex);
  client_->cv.wait(lock, [&] { return client_->n_outstanding == 0; });
}

std::string espeak_synthesizer::name() const { return "espeak:" + client_->language; }

engine::synthesizer_caps espeak_synthesizer::caps() const { return {client_->out_rate_hz, true}; }

int espeak_synthesizer::native_rate_hz() const { return client_->native_rate_hz; }

std::string espeak_synthesizer::language() const { return client_->language; }

std::size_t espeak_synthesizer::n_outstanding() const {
  std::lock_guard lock(client_->mutex);
  return client_->n_outstanding;
}

void espeak_synthesizer::synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) {
  // Local references: once posted, the request may complete and its callback may destroy this
  // synthesizer (and the engine handle) before this function returns.
  const std::shared_ptr<client> c = client_;
  const std::shared_ptr<engine_handle> engine = c->engine;
  std::size_t n = 0;
  {
    std::lock_guard lock(c->mutex);
    n = c->n_outstanding;
    if (n < c->config.max_queued) ++c->n_outstanding;
  }
  if (n >= c->config.max_queued) {
    if (events.on_done) {
      events.on_done(make_error(errc::unavailable, "espeak: " + std::to_string(n) + " requests outstanding; try again later"));
    }
    return;
  }
  auto req = std::make_shared<request>(request{std::move(text), std::move(events), std::move(stop)});
  engine->post([c, req] {
    run_request(*c, *req);
    req->events = {};  // release the caller's callbacks before signalling completion
    {
      std::lock_guard lock(c->mutex);
      --c->n_outstanding;
    }
    c->cv.notify_all();
  });
}

}  // namespace parley::espeak
