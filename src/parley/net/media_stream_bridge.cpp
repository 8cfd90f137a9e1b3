// net/media_stream_bridge — implementation. See media_stream_bridge.hpp; docs/transports.md.
#include "parley/net/media_stream_bridge.hpp"

#include <algorithm>
#include <charconv>
#include <type_traits>
#include <variant>

#include "parley/agent/session.hpp"
#include "parley/core/log.hpp"
#include "parley/net/http_routes.hpp"
#include "parley/net/server_state.hpp"
#include "parley/text/utf8.hpp"

namespace parley::net {

namespace {

constexpr std::uint16_t k_close_normal = 1000;
constexpr std::uint16_t k_close_policy = 1008;
constexpr std::string_view k_mark_prefix = "parley-";

// A mark's name: "parley-<generation>-<8 kHz samples of the reply sent up to it>".
std::string mark_name(std::uint64_t generation, std::uint64_t offset_samples) {
  return std::string(k_mark_prefix) + std::to_string(generation) + "-" + std::to_string(offset_samples);
}

struct parsed_mark {
  std::uint64_t generation = 0;
  std::uint64_t offset_samples = 0;
};
std::optional<parsed_mark> parse_mark(std::string_view name) {
  if (!name.starts_with(k_mark_prefix)) return std::nullopt;
  name.remove_prefix(k_mark_prefix.size());
  parsed_mark m;
  const char* end = name.data() + name.size();
  auto [p, ec] = std::from_chars(name.data(), end, m.generation);
  if (ec != std::errc{} || p == end || *p != '-') return std::nullopt;
  auto [q, ec2] = std::from_chars(p + 1, end, m.offset_samples);
  if (ec2 != std::errc{} || q != end) return std::nullopt;
  return m;
}

}  // namespace

media_stream_bridge::media_stream_bridge(std::shared_ptr<server_state> server, wire_link& link, strand_type strand)
    : server_(std::move(server)), link_(link), strand_(std::move(strand)), drain_timer_(strand_), dtmf_timer_(strand_) {}

media_stream_bridge::~media_stream_bridge() = default;

void media_stream_bridge::on_open(std::weak_ptr<media_stream_bridge> self) {
  self_ = std::move(self);
  rate_limit_.start(steady_clock::now());
}

void media_stream_bridge::on_closed() {
  drain_timer_.cancel();
  dtmf_timer_.cancel();
  if (session_) {
    server_->metrics().count_session(session_->stats());
    server_->retire(std::move(session_));
  }
}

void media_stream_bridge::protocol_error(wire_errc code, std::string_view what) {
  server_->metrics().count_error(code);
  PARLEY_LOG(debug, "net: media stream " << session_id_ << ": " << what << "; ignored");
}

void media_stream_bridge::refuse(std::string reason) {
  PARLEY_LOG(info, "net: media stream refused: " << reason);
  link_.close(k_close_policy, std::move(reason), true);
}

// ---- provider messages -------------------------------------------------------------------------
void media_stream_bridge::on_text(std::string_view payload) {
  auto decoded = decode_media_stream(payload);
  if (auto* err = std::get_if<ms_error>(&decoded)) {
    protocol_error(wire_errc::invalid_message, err->message);
    return;
  }
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ms_start>) {
          if (session_) return refuse("a second start on one stream");
          start_call(m);
        } else if constexpr (std::is_same_v<T, ms_connected> || std::is_same_v<T, ms_clear>) {
          // the provider's hello: nothing to do until start (`clear` is ours to send: ignored)
        } else if (!session_) {
          if (token_in_start_) return refuse("start must come first and carry the access token");
          protocol_error(wire_errc::session_not_started, "a message before start");
        } else if constexpr (std::is_same_v<T, ms_media>) {
          on_media(m);
        } else if constexpr (std::is_same_v<T, ms_mark>) {
          on_mark(m);
        } else if constexpr (std::is_same_v<T, ms_dtmf>) {
          on_dtmf(m.digit);
        } else if constexpr (std::is_same_v<T, ms_stop>) {
          end_call();
        }
      },
      std::get<ms_event>(decoded));
}

void media_stream_bridge::on_binary(std::span<const std::uint8_t>) {
  protocol_error(wire_errc::invalid_message, "a binary message (media streams carry base64 in JSON)");
}

void media_stream_bridge::start_call(const ms_start& s) {
  if (token_in_start_) {
    const auto token = s.custom_parameters.find("access_token");
    const auto why = token_failure(*server_, token == s.custom_parameters.end()
                                                 ? std::nullopt
                                                 : std::optional<std::string>(token->second));
    if (why) {
      server_->metrics().n_auth_failures.fetch_add(1, std::memory_order_relaxed);
      return refuse("unauthorized: " + *why);
    }
  }
  if (s.encoding != "audio/x-mulaw" || s.sample_rate_hz != k_telephone_rate_hz || s.channels != 1) {
    return refuse("unsupported media format: only audio/x-mulaw, 8000 Hz, mono");
  }
  stream_sid_ = s.stream_sid;
  auto up = audio::resampler::create(k_telephone_rate_hz, k_input_rate_hz);
  if (!up) return refuse("no resampler: " + up.error().message);
  input_resampler_.emplace(std::move(*up));

  agent::session_options options = base_session_options(*server_);
  if (const auto context = s.custom_parameters.find("context"); context != s.custom_parameters.end()) {
    // At most k_max_context_bytes, cut on a character boundary (the value came from JSON: valid UTF-8).
    const std::string_view ctx = std::string_view(context->second).substr(0, k_max_context_bytes);
    options.caller_context = std::string(ctx.substr(0, text::utf8_complete_prefix(ctx)));
  }
  auto created = agent::session::create(server_->executor(), server_->engines(), options,
                                        bridge_callbacks(self_, strand_, server_));
  if (!created) return refuse("the session could not start: " + created.error().message);
  session_ = std::move(*created);
  session_id_ = session_->id().value;
  PARLEY_LOG(info, "net: call " << session_id_ << " started (media stream, 8000 Hz mu-law, "
                                << agent::to_string(options.mode) << ")");
  if (!options.greeting.empty()) session_->announce(options.greeting);
}

void media_stream_bridge::on_media(const ms_media& m) {
  if (m.track != "inbound" && m.track != "inbound_track") return;  // only the caller is heard
  if (input_ended_ || draining_ || m.payload.empty()) return;
  const auto now = steady_clock::now();
  if (rate_limit_.exceeded(*server_, now, n_input_samples_)) {
    if (rate_limit_.report_due(now)) PARLEY_LOG(info, "net: call " << session_id_ << ": audio faster than allowed; dropped");
    return;
  }
  auto pcm = input_resampler_->process(mulaw_decode(m.payload));
  if (pcm.empty()) return;
  n_input_samples_ += static_cast<media_time>(pcm.size());
  session_->push_audio(std::move(pcm));
}

// The provider played the reply up to a mark of ours: the session learns it as playout (at the
// session's own rate). Marks of a cut reply come back after `clear`; they say nothing was heard.
void media_stream_bridge::on_mark(const ms_mark& m) {
  const auto mark = parse_mark(m.name);
  if (!mark) return;  // not one of ours
  if (mark->generation != audio_generation_ || mark->generation <= interrupted_upto_) return;
  const auto played = static_cast<std::uint64_t>(static_cast<double>(mark->offset_samples) * session_audio_rate_hz_ /
                                                 k_telephone_rate_hz);
  session_->on_playout(generation_id{mark->generation}, played);
}

void media_stream_bridge::on_dtmf(char digit) {
  if (input_ended_ || draining_) return;
  if (digit == '#') return submit_digits();
  digits_ += digit;
  dtmf_timer_.expires_after(seconds_f(k_dtmf_gap_ms / 1000.0));
  dtmf_timer_.async_wait([weak = self_](boost::system::error_code ec) {
    if (ec) return;
    if (auto b = weak.lock()) b->submit_digits();
  });
}

void media_stream_bridge::submit_digits() {
  dtmf_timer_.cancel();
  if (digits_.empty()) return;
  session_->submit_text(std::exchange(digits_, {}));
}

// The call is over: the session ends its input; nothing more can be heard, so the socket closes.
void media_stream_bridge::end_call() {
  if (input_ended_) return;
  input_ended_ = true;
  dtmf_timer_.cancel();
  session_->end_input();
  link_.close(k_close_normal, "call ended", true);
}

// ---- session events ----------------------------------------------------------------------------
void media_stream_bridge::on_session_event(const event& e) {
  if (link_.closed()) return;
  const std::uint64_t gen = e.env.generation.value;
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, output_audio_chunk>) {
          on_output_audio(gen, body);
        } else if constexpr (std::is_same_v<T, reply_done>) {
          if (gen == audio_generation_ && gen > interrupted_upto_) finish_reply_audio(gen);
        } else if constexpr (std::is_same_v<T, interrupt_event>) {
          interrupt_generation(gen, body);
        } else if constexpr (std::is_same_v<T, end_of_stream>) {
          if (draining_) link_.close(k_close_going_away, "server shutting down", false);
        } else if constexpr (std::is_same_v<T, error_event>) {
          PARLEY_LOG(warn, "net: call " << session_id_ << ": " << body.err.describe());
        }
      },
      e.body);
}

void media_stream_bridge::on_output_audio(std::uint64_t generation, const output_audio_chunk& chunk) {
  if (generation <= interrupted_upto_ || chunk.samples.empty()) return;
  if (generation != audio_generation_) {  // a new reply: its own resampler and offsets
    audio_generation_ = generation;
    audio_offset_samples_ = 0;
    session_audio_rate_hz_ = chunk.rate_hz;
    output_resampler_.reset();
    if (chunk.rate_hz != k_telephone_rate_hz) {
      auto down = audio::resampler::create(chunk.rate_hz, k_telephone_rate_hz);
      if (!down) {
        PARLEY_LOG(warn, "net: call " << session_id_ << ": reply audio at " << chunk.rate_hz << " Hz cannot be resampled");
        return;
      }
      output_resampler_.emplace(std::move(*down));
    }
  }
  if (!output_resampler_) return emit_audio(generation, chunk.samples);
  emit_audio(generation, output_resampler_->process(chunk.samples));
}

void media_stream_bridge::finish_reply_audio(std::uint64_t generation) {
  if (output_resampler_) emit_audio(generation, output_resampler_->flush());
}

// Reply audio as media messages of at most k_media_message_samples, then one mark for them; both
// carry the generation, so a cut reply's unsent audio and marks never leave.
void media_stream_bridge::emit_audio(std::uint64_t generation, std::span<const std::int16_t> pcm_8k) {
  if (pcm_8k.empty()) return;
  for (std::size_t at = 0; at < pcm_8k.size(); at += k_media_message_samples) {
    const auto piece = pcm_8k.subspan(at, std::min(k_media_message_samples, pcm_8k.size() - at));
    link_.send({encode_ms_media(stream_sid_, mulaw_encode(piece)), false, generation, std::nullopt});
    audio_offset_samples_ += piece.size();
  }
  link_.send({encode_ms_mark(stream_sid_, mark_name(generation, audio_offset_samples_)), false, generation,
              std::nullopt});
}

// The session cut a reply: nothing more of it leaves, and the provider drops what it buffered.
void media_stream_bridge::interrupt_generation(std::uint64_t generation, const interrupt_event& cut) {
  if (generation == 0 || generation <= interrupted_upto_) return;
  interrupted_upto_ = generation;
  link_.fence(generation);
  server_->metrics().count_interrupt(cut.reason);
  if (cut.reason == "barge_in") server_->metrics().n_barge_ins.fetch_add(1, std::memory_order_relaxed);
  if (generation == audio_generation_) link_.send({encode_ms_clear(stream_sid_), false, 0, cut.t_speech_start});
}

// ---- shutdown ----------------------------------------------------------------------------------
void media_stream_bridge::drain() {
  if (draining_ || link_.closed()) return;
  draining_ = true;
  if (!session_ || input_ended_) {
    link_.close(k_close_going_away, "server shutting down", false);
    return;
  }
  input_ended_ = true;
  dtmf_timer_.cancel();
  session_->end_input();  // the reply in flight is spoken; end_of_stream closes
  drain_timer_.expires_after(seconds_f(server_->config().drain_timeout_s));
  drain_timer_.async_wait([weak = self_](boost::system::error_code ec) {
    if (ec) return;
    if (auto b = weak.lock()) b->link_.close(k_close_going_away, "server shutting down", true);
  });
}

}  // namespace parley::net
