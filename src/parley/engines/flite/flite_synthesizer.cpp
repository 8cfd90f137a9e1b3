#include "parley/engines/flite/flite_synthesizer.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <utility>

#include "parley/audio/resampler.hpp"
#include "parley/text/utf8.hpp"

extern "C" {
#include <flite.h>

// Voice registration functions of the bundled voices (libflite_cmu_us_*; no header declares them).
cst_voice* register_cmu_us_rms(const char* voxdir);
cst_voice* register_cmu_us_slt(const char* voxdir);
cst_voice* register_cmu_us_awb(const char* voxdir);
cst_voice* register_cmu_us_kal16(const char* voxdir);
cst_voice* register_cmu_us_kal(const char* voxdir);
}

namespace parley::flite {
namespace {

// Longest text handed to flite as one utterance. Clustergen voices predict the whole
// utterance's parameters before the first chunk streams out, so a very long utterance would
// delay the first audio (and flite's token stream caps utterances anyway).
constexpr std::size_t k_max_utterance_bytes = 600;
// split_first_clause: the first clause is spoken alone when it ends within this many bytes and
// at least this much text follows it.
constexpr std::size_t k_max_first_clause_bytes = 80;
constexpr std::size_t k_min_rest_bytes = 12;
// Utterances start and end with flite's pauses (~150-250 ms each); where a text is split, the
// pause between pieces is cut to about what flite makes at a comma inside one utterance
// (~90 ms for rms): the end of a piece keeps at most k_piece_tail_ms of its trailing pause and
// the next one starts k_continuation_margin_ms before its first sound.
constexpr double k_piece_tail_ms = 70.0;
constexpr double k_continuation_margin_ms = 20.0;
constexpr int k_silence_threshold = 300;  // |sample| below this is silence (about -40 dBFS)
constexpr int k_max_workers = 16;
constexpr double k_min_chunk_ms = 5.0, k_max_chunk_ms = 1000.0;
constexpr int k_min_output_rate_hz = 8000, k_max_output_rate_hz = 48000;

struct voice_entry {
  std::string_view name;
  cst_voice* (*reg)(const char*);
  std::string_view description;
  bool plans_whole_utterance;  // clustergen: the first chunk waits for the whole utterance's plan
};

// Default first. Measured choice: see default_voice() and docs.
constexpr std::array<voice_entry, 5> k_voices = {{
    {"rms", register_cmu_us_rms, "US English male, clustergen (statistical parametric), 16 kHz", true},
    {"slt", register_cmu_us_slt, "US English female, clustergen (statistical parametric), 16 kHz", true},
    {"awb", register_cmu_us_awb, "Scottish English male, clustergen (statistical parametric), 16 kHz", true},
    {"kal16", register_cmu_us_kal16, "US English male, diphone, 16 kHz", false},
    {"kal", register_cmu_us_kal, "US English male, diphone, 8 kHz", false},
}};

/// flite_init() and every voice registration, once per process (a function-local static is
/// initialised exactly once even when several threads arrive together). Registration touches
/// flite's shared lexicon, so it must never race; doing it all up front also means no
/// registration ever overlaps a synthesis.
struct flite_runtime {
  std::array<cst_voice*, k_voices.size()> voices{};
};

const flite_runtime& runtime() {
  static const flite_runtime rt = [] {
    flite_runtime r;
    flite_init();
    for (std::size_t i = 0; i < k_voices.size(); ++i) r.voices[i] = k_voices[i].reg(nullptr);
    return r;
  }();
  return rt;
}

std::optional<std::size_t> find_voice(std::string_view name) {
  if (name.starts_with("cmu_us_")) name.remove_prefix(7);
  for (std::size_t i = 0; i < k_voices.size(); ++i) {
    if (k_voices[i].name == name) return i;
  }
  return std::nullopt;
}

std::string known_voices() {
  std::string s;
  for (const auto& v : k_voices) s += (s.empty() ? "" : ", ") + std::string(v.name);
  return s;
}

bool has_word(std::string_view text) {
  return std::ranges::any_of(text, [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

struct request {
  std::string text;
  engine::synthesizer_events events;
  std::stop_token stop;
};

/// Splits text for flite: the first clause alone when asked (it ends at , ; or : followed by a
/// space); the rest whole when short, else at sentence ends, clause ends or spaces.
std::vector<std::string> split_utterances(const std::string& text, bool first_clause) {
  std::vector<std::string> pieces;
  std::string_view rest = text;
  if (first_clause) {
    const std::size_t limit = std::min(rest.size(), k_max_first_clause_bytes);
    for (std::size_t i = 1; i + 1 < limit; ++i) {
      if ((rest[i] == ',' || rest[i] == ';' || rest[i] == ':') && rest[i + 1] == ' ' && has_word(rest.substr(0, i)) &&
          rest.size() - i - 2 >= k_min_rest_bytes) {
        pieces.emplace_back(rest.substr(0, i + 1));
        rest.remove_prefix(i + 2);
        break;
      }
    }
  }
  while (rest.size() > k_max_utterance_bytes) {
    const std::string_view window = rest.substr(0, k_max_utterance_bytes);
    std::size_t cut = std::string_view::npos;
    for (const std::string_view marks : {".!?", ",;:", " "}) {
      for (std::size_t i = window.size(); i-- > 1;) {
        if (marks.find(window[i - 1]) != std::string_view::npos && window[i] == ' ') {
          cut = i;
          break;
        }
      }
      if (cut != std::string_view::npos) break;
    }
    if (cut == std::string_view::npos) cut = window.size();
    pieces.emplace_back(rest.substr(0, cut));
    rest.remove_prefix(cut);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  if (!rest.empty()) pieces.emplace_back(rest);
  return pieces;
}

/// ASCII spelling of a Latin letter with a diacritic, typographic marks, or "" (unknown).
std::string_view fold_code_point(char32_t cp) {
  switch (cp) {
    case U'\u2018': case U'\u2019': case U'\u201A': case U'\u201B': return "'";
    case U'\u201C': case U'\u201D': case U'\u201E': case U'\u201F': return "\"";
    case U'\u2013': case U'\u2014': case U'\u2015': return ",";
    case U'\u2026': return "...";
    case U'\u00C6': return "AE";
    case U'\u00E6': return "ae";
    case U'\u00DF': return "ss";
    case U'\u00DE': return "Th";
    case U'\u00FE': return "th";
    case U'\u0152': return "OE";
    case U'\u0153': return "oe";
    case U'\u0141': return "L";
    case U'\u0142': return "l";
    default: break;
  }
  // Latin-1 letters À..ÿ (skipping × and ÷) by table.
  static constexpr std::string_view latin1 =
      "AAAAAA_CEEEEIIII"   // C0..CF (C6 handled above)
      "DNOOOOO_OUUUUY__"   // D0..DF (D7 ×, DE, DF handled above)
      "aaaaaa_ceeeeiiii"   // E0..EF
      "dnooooo_ouuuuy_y";  // F0..FF (F7 ÷, FE handled above)
  if (cp >= 0xC0 && cp <= 0xFF) {
    const std::string_view c = latin1.substr(cp - 0xC0, 1);
    return c == "_" ? std::string_view() : c;
  }
  // Latin Extended-A (Ā..ž): pairs of upper/lower case letters; base letter by table.
  static constexpr std::string_view ext_a =
      "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi__JjKkkLlLlLlLl__NnNnNnnNnOoOoOo__RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";
  if (cp >= 0x100 && cp <= 0x17F) {
    const std::string_view c = ext_a.substr(cp - 0x100, 1);
    return c == "_" ? std::string_view() : c;
  }
  return {};
}

}  // namespace

std::string to_flite_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto put_space = [&out] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  while (!text.empty()) {
    const text::utf8_code_point cp = text::decode_utf8(text);
    text.remove_prefix(cp.n_bytes);
    if (cp.status != text::utf8_status::valid) {
      put_space();
    } else if (cp.value < 0x80) {
      const char c = static_cast<char>(cp.value);
      if (c < 0x20 || c == 0x7F || c == ' ') put_space();
      else out += c;
    } else if (const std::string_view folded = fold_code_point(cp.value); !folded.empty()) {
      out += folded;
    } else {
      put_space();
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------------------------
struct flite_synthesizer::state {
  flite_config config;
  std::size_t voice_index = 0;
  cst_voice* voice = nullptr;
  int native_rate_hz = 0;
  int out_rate_hz = 0;
  int chunk_samples = 0;

  mutable std::mutex mutex;
  std::condition_variable cv;
  std::deque<request> queue;  // FIFO, at most config.max_queued
  bool closing = false;       // under mutex: no new requests; workers exit once the queue is empty
  std::atomic<bool> shutting_down{false};  // cancels running and queued requests
  std::vector<std::thread> workers;        // touched only by create() and the destructor
};

namespace {

using state = flite_synthesizer::state;

/// What the streaming callback needs for one utterance of one request.
struct stream_context {
  const state* s = nullptr;
  request* req = nullptr;
  audio::resampler* resampler = nullptr;  // null: native rate
  std::size_t trim_margin_samples = 0;
  std::size_t tail_keep_samples = 0;
  bool trim_leading_silence = false;      // a continuation utterance: cut its leading pause
  bool hold_trailing_silence = false;     // not the last utterance: hold back silence at the end
  std::vector<std::int16_t> held;         // silence held back (native rate)
  bool stopped = false;                   // a stop request was seen
  bool callback_threw = false;            // on_audio threw: the request fails
};

void deliver_now(stream_context& ctx, std::span<const std::int16_t> pcm) {
  if (pcm.empty() || !ctx.req->events.on_audio) return;
  try {
    ctx.req->events.on_audio(pcm);
  } catch (...) {
    ctx.callback_threw = true;  // never let an exception unwind through flite's C frames
  }
}

/// Native-rate audio: resampled when needed, then delivered.
void deliver(stream_context& ctx, std::span<const std::int16_t> pcm) {
  if (pcm.empty()) return;
  if (ctx.resampler) {
    const std::vector<std::int16_t> out = ctx.resampler->process(pcm);
    deliver_now(ctx, out);
  } else {
    deliver_now(ctx, pcm);
  }
}

bool is_loud(std::int16_t x) { return x >= k_silence_threshold || x <= -k_silence_threshold; }

/// flite's audio streaming callback (cst_audio_streaming_info.asc): samples [start, start+size)
/// of `w` are new. Runs on the worker thread, inside flite_do_synth.
int stream_chunk(const cst_wave* w, int start, int size, int /*last*/, cst_audio_streaming_info* asi) {
  auto& ctx = *static_cast<stream_context*>(asi->userdata);
  if (ctx.callback_threw || ctx.req->stop.stop_requested() || ctx.s->shutting_down.load(std::memory_order_relaxed)) {
    ctx.stopped = true;
    return CST_AUDIO_STREAM_STOP;
  }
  if (size <= 0) return CST_AUDIO_STREAM_CONT;
  std::span<const std::int16_t> pcm(w->samples + start, static_cast<std::size_t>(size));
  if (ctx.trim_leading_silence) {
    const auto loud = std::ranges::find_if(pcm, is_loud);
    if (loud == pcm.end()) return CST_AUDIO_STREAM_CONT;  // still the leading pause: dropped
    const auto at = static_cast<std::size_t>(loud - pcm.begin());
    pcm = pcm.subspan(at > ctx.trim_margin_samples ? at - ctx.trim_margin_samples : 0);
    ctx.trim_leading_silence = false;
  }
  if (!ctx.hold_trailing_silence) {
    deliver(ctx, pcm);
  } else {
    // Silence may be the trailing pause: hold it until sound follows (then it was inner).
    const auto last_loud = std::find_if(pcm.rbegin(), pcm.rend(), is_loud);
    if (last_loud == pcm.rend()) {
      ctx.held.insert(ctx.held.end(), pcm.begin(), pcm.end());
    } else {
      const auto n_sound = static_cast<std::size_t>(pcm.rend() - last_loud);
      ctx.held.insert(ctx.held.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(n_sound));
      deliver(ctx, ctx.held);
      ctx.held.assign(pcm.begin() + static_cast<std::ptrdiff_t>(n_sound), pcm.end());
    }
  }
  return ctx.callback_threw ? CST_AUDIO_STREAM_STOP : CST_AUDIO_STREAM_CONT;
}

void finish(request& r, status s) {
  if (!r.events.on_done) return;
  try {
    r.events.on_done(std::move(s));
  } catch (...) {
    // A throwing on_done must not take the worker (and the process) down; nothing else to do.
  }
}

void run_request(const state& s, request& r, std::optional<audio::resampler>& resampler) {
  if (r.stop.stop_requested() || s.shutting_down.load()) {
    return finish(r, make_error(errc::cancelled, "synthesis cancelled before it started"));
  }
  const std::string text =
      to_flite_text(s.config.normalize_text ? text::normalize_for_speech(r.text, s.config.normalize) : r.text);
  if (!has_word(text)) return finish(r, {});  // nothing to say: no audio, success

  stream_context ctx{&s, &r, resampler ? &*resampler : nullptr};
  ctx.trim_margin_samples = static_cast<std::size_t>(k_continuation_margin_ms * s.native_rate_hz / 1000.0);
  ctx.tail_keep_samples = static_cast<std::size_t>(k_piece_tail_ms * s.native_rate_hz / 1000.0);
  bool synth_failed = false;
  const std::vector<std::string> pieces =
      split_utterances(text, s.config.split_first_clause && k_voices[s.voice_index].plans_whole_utterance);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const std::string& piece = pieces[i];
    ctx.trim_leading_silence = i > 0;
    ctx.hold_trailing_silence = i + 1 < pieces.size();
    ctx.held.clear();
    cst_utterance* utt = new_utterance();
    utt_set_input_text(utt, piece.c_str());
    // The streaming hook goes on the utterance, never on the shared voice: that is what makes
    // concurrent synthesis with one voice safe. The utterance owns (and frees) `asi`.
    cst_audio_streaming_info* asi = new_audio_streaming_info();
    asi->min_buffsize = s.chunk_samples;
    asi->asc = &stream_chunk;
    asi->userdata = &ctx;
    feat_set(utt->features, "streaming_info", audio_streaming_info_val(asi));
    utt = flite_do_synth(utt, s.voice, utt_synth);  // deletes the utterance itself on failure
    if (utt == nullptr) {
      synth_failed = true;
      break;
    }
    delete_utterance(utt);
    if (ctx.stopped || ctx.callback_threw) break;
    if (ctx.hold_trailing_silence) {  // the held silence was the trailing pause: keep a natural part
      ctx.held.resize(std::min(ctx.held.size(), ctx.tail_keep_samples));
      deliver(ctx, ctx.held);
      ctx.held.clear();
    }
    if (r.stop.stop_requested() || s.shutting_down.load()) {
      ctx.stopped = true;
      break;
    }
  }
  if (ctx.callback_threw) {
    if (resampler) resampler->reset();
    return finish(r, make_error(errc::internal, "flite: on_audio threw; synthesis abandoned"));
  }
  if (ctx.stopped) {
    if (resampler) resampler->reset();
    return finish(r, make_error(errc::cancelled, "synthesis cancelled"));
  }
  if (synth_failed) {
    if (resampler) resampler->reset();
    return finish(r, make_error(errc::engine_failure, "flite could not synthesize the text"));
  }
  if (resampler) deliver_now(ctx, resampler->flush());
  if (ctx.callback_threw) return finish(r, make_error(errc::internal, "flite: on_audio threw; synthesis abandoned"));
  finish(r, {});
}

void worker_main(std::shared_ptr<state> s) {  // NOLINT: the copy keeps the state alive
  std::optional<audio::resampler> resampler;
  if (s->out_rate_hz != s->native_rate_hz) {
    auto rs = audio::resampler::create(s->native_rate_hz, s->out_rate_hz);
    if (rs) resampler.emplace(std::move(*rs));  // validated in create()
  }
  for (;;) {
    request r;
    {
      std::unique_lock lock(s->mutex);
      s->cv.wait(lock, [&] { return s->closing || !s->queue.empty(); });
      if (s->queue.empty()) return;  // closing, nothing left
      r = std::move(s->queue.front());
      s->queue.pop_front();
    }
    run_request(*s, r, resampler);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
std::vector<std::string> flite_synthesizer::voices() {
  std::vector<std::string> names;
  for (const auto& v : k_voices) names.emplace_back(v.name);
  return names;
}

std::vector<flite_voice_info> flite_synthesizer::voice_infos() {
  std::vector<flite_voice_info> infos;
  for (const auto& v : k_voices) {
    infos.push_back({std::string(v.name), v.name == "kal" ? 8000 : 16000, std::string(v.description)});
  }
  return infos;
}

std::string flite_synthesizer::default_voice() { return std::string(k_voices[0].name); }

result<std::shared_ptr<flite_synthesizer>> flite_synthesizer::create(flite_config config) {
  const auto index = find_voice(config.voice);
  if (!index) {
    return make_error(errc::not_found, "unknown flite voice '" + config.voice + "' (known: " + known_voices() + ")");
  }
  if (config.n_workers < 1 || config.n_workers > k_max_workers) {
    return make_error(errc::invalid_argument, "flite: n_workers must be 1.." + std::to_string(k_max_workers));
  }
  if (!(config.chunk_ms >= k_min_chunk_ms && config.chunk_ms <= k_max_chunk_ms)) {
    return make_error(errc::invalid_argument, "flite: chunk_ms must be 5..1000");
  }
  if (config.output_rate_hz != 0 &&
      (config.output_rate_hz < k_min_output_rate_hz || config.output_rate_hz > k_max_output_rate_hz)) {
    return make_error(errc::invalid_argument, "flite: output_rate_hz must be 0 (native) or 8000..48000");
  }
  if (config.max_queued < 1) return make_error(errc::invalid_argument, "flite: max_queued must be at least 1");

  auto s = std::make_shared<state>();
  s->voice_index = *index;
  s->voice = runtime().voices[*index];
  if (s->voice == nullptr) {
    return make_error(errc::engine_failure, "flite voice '" + std::string(k_voices[*index].name) + "' failed to register");
  }
  // One short synthesis proves the voice works and tells its true native rate.
  cst_wave* probe = flite_text_to_wave("Hello.", s->voice);
  if (probe == nullptr || probe->num_samples <= 0 || probe->sample_rate <= 0) {
    if (probe) delete_wave(probe);
    return make_error(errc::engine_failure, "flite voice '" + std::string(k_voices[*index].name) + "' produced no audio");
  }
  s->native_rate_hz = probe->sample_rate;
  delete_wave(probe);
  s->out_rate_hz = config.output_rate_hz == 0 ? s->native_rate_hz : config.output_rate_hz;
  if (s->out_rate_hz != s->native_rate_hz) {
    if (auto rs = audio::resampler::create(s->native_rate_hz, s->out_rate_hz); !rs) return rs.error();
  }
  s->chunk_samples = std::max(1, static_cast<int>(config.chunk_ms * s->native_rate_hz / 1000.0));
  s->config = std::move(config);

  std::shared_ptr<flite_synthesizer> tts(new flite_synthesizer(s));
  try {
    for (int i = 0; i < s->config.n_workers; ++i) s->workers.emplace_back(worker_main, s);
  } catch (const std::system_error& e) {
    return make_error(errc::engine_failure, std::string("flite: cannot start a worker thread: ") + e.what());
  }
  return tts;
}

flite_synthesizer::flite_synthesizer(std::shared_ptr<state> s) : state_(std::move(s)) {}

flite_synthesizer::~flite_synthesizer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->closing = true;
  }
  state_->shutting_down.store(true);
  state_->cv.notify_all();
  for (std::thread& t : state_->workers) {
    if (t.get_id() == std::this_thread::get_id()) {
      t.detach();  // destroyed from inside a callback: this worker finishes on its own
    } else if (t.joinable()) {
      t.join();
    }
  }
}

std::string flite_synthesizer::name() const { return "flite:" + std::string(k_voices[state_->voice_index].name); }

engine::synthesizer_caps flite_synthesizer::caps() const { return {state_->out_rate_hz, true}; }

int flite_synthesizer::native_rate_hz() const { return state_->native_rate_hz; }

std::size_t flite_synthesizer::n_queued() const {
  std::lock_guard lock(state_->mutex);
  return state_->queue.size();
}

void flite_synthesizer::synthesize(std::string text, engine::synthesizer_events events, std::stop_token stop) {
  // A local reference: once queued, the request may complete and its callback may destroy this
  // synthesizer before this function returns.
  const std::shared_ptr<state> s = state_;
  std::size_t n_waiting = 0;
  {
    std::unique_lock lock(s->mutex);
    // Requests cancelled while queued cost a worker nothing (it completes them unsynthesized), so
    // they do not count: a session that interrupts its own replies fast must not fill the queue
    // and mute every other session.
    n_waiting = static_cast<std::size_t>(
        std::ranges::count_if(s->queue, [](const request& r) { return !r.stop.stop_requested(); }));
    if (!s->closing && n_waiting < s->config.max_queued) {
      s->queue.push_back(request{std::move(text), std::move(events), std::move(stop)});
      lock.unlock();
      s->cv.notify_one();
      return;
    }
  }
  if (events.on_done) {
    events.on_done(make_error(errc::unavailable, "flite: request queue full (" + std::to_string(n_waiting) +
                                                     " waiting); try again later"));
  }
}

}  // namespace parley::flite
