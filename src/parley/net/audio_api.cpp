// net/audio_api — implementation. See audio_api.hpp.
#include "parley/net/audio_api.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "parley/audio/wav.hpp"
#include "parley/core/log.hpp"
#include "parley/net/base64.hpp"
#include "parley/net/http_util.hpp"
#include "parley/net/multipart.hpp"
#include "parley/net/server_state.hpp"

namespace parley::net {

namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;

namespace {

error bad_field(std::string_view field, std::string_view what) {
  return make_error(errc::invalid_argument, std::string(field) + ": " + std::string(what));
}

bool is_english(std::string_view language) {
  // ISO-639-1 as OpenAI takes it, a locale tag, or the name.
  return language.empty() || beast::iequals(language, "en") || beast::iequals(language, "english") ||
         (language.size() > 3 && beast::iequals(language.substr(0, 3), "en-")) ||
         (language.size() > 3 && beast::iequals(language.substr(0, 3), "en_"));
}

std::optional<transcript_format> transcript_format_named(std::string_view name) {
  if (name == "json") return transcript_format::json;
  if (name == "text") return transcript_format::text;
  if (name == "verbose_json") return transcript_format::verbose_json;
  if (name == "srt") return transcript_format::srt;
  if (name == "vtt") return transcript_format::vtt;
  return std::nullopt;
}

/// `seconds` as a subtitle time: 00:00:03,200 (srt, `separator` ',') or 00:00:03.200 (vtt, '.').
std::string subtitle_time(double seconds, char separator) {
  const auto ms = static_cast<long long>(std::llround(std::max(0.0, seconds) * 1000.0));
  std::array<char, 32> out{};
  std::snprintf(out.data(), out.size(), "%02lld:%02lld:%02lld%c%03lld", ms / 3'600'000, ms / 60'000 % 60,
                ms / 1000 % 60, separator, ms % 1000);
  return out.data();
}

json usage_of(const agent::clip_transcription& heard) {
  return {{"type", "duration"}, {"seconds", std::ceil(heard.duration_s)}};
}

}  // namespace

std::string_view error_param(std::string_view message) {
  const auto colon = message.find(": ");
  if (colon == std::string_view::npos || colon == 0) return {};
  const auto field = message.substr(0, colon);
  return field.find(' ') == std::string_view::npos ? field : std::string_view{};
}

http_response openai_error(const http_request& req, http::status status, std::string_view message,
                           std::string_view param) {
  const bool server_side = static_cast<unsigned>(status) >= 500;
  const json body = {{"error",
                      {{"message", message},
                       {"type", server_side ? "server_error" : "invalid_request_error"},
                       {"param", param.empty() ? json(nullptr) : json(param)},
                       {"code", nullptr}}}};
  return make_response(req, status, body.dump() + "\n", "application/json");
}

// ---- transcriptions -----------------------------------------------------------------------------

result<transcription_request> parse_transcription_request(std::string_view content_type, std::string_view body) {
  auto parts = parse_multipart_form(content_type, body);
  if (!parts) return parts.error();
  transcription_request out;
  bool have_file = false;
  bool word_timestamps = false;
  for (const auto& part : *parts) {
    const std::string_view name = part.name;
    const std::string_view value = part.body;
    if (name == "file") {
      if (have_file) return bad_field("file", "given twice");
      have_file = true;
      out.audio = value;
      out.filename = part.filename && !part.filename->empty() ? *part.filename : "upload";
    } else if (name == "model") {
      out.model = value;
    } else if (name == "language") {
      if (!is_english(value)) {
        return bad_field("language", "'" + std::string(value.substr(0, 32)) +
                                         "' is not supported: parley's recognizer understands English (en)");
      }
    } else if (name == "prompt" || name == "chunking_strategy") {
      // Accepted and not used: the recognizer takes no prompt and hears the clip as one utterance.
    } else if (name == "temperature") {
      try {
        std::size_t used = 0;
        const double t = std::stod(std::string(value), &used);
        if (used != value.size() || !(t >= 0.0 && t <= 1.0)) throw std::invalid_argument("range");
      } catch (const std::exception&) {
        return bad_field("temperature", "must be a number from 0 to 1");
      }
    } else if (name == "response_format") {
      const auto format = transcript_format_named(value);
      if (!format) {
        return bad_field("response_format", "'" + std::string(value.substr(0, 32)) +
                                                "' is not one of json, text, verbose_json, srt, vtt");
      }
      out.format = *format;
    } else if (name == "stream") {
      if (value != "true" && value != "false") return bad_field("stream", "must be true or false");
      out.stream = value == "true";
    } else if (name == "timestamp_granularities[]" || name == "timestamp_granularities") {
      if (value == "word") word_timestamps = true;
      else if (value != "segment") return bad_field("timestamp_granularities", "must be segment or word");
    } else if (name == "include[]" || name == "include") {
      return bad_field("include", "parley gives no token log probabilities");
    } else {
      return bad_field(name.substr(0, 64), "unknown field");
    }
  }
  if (!have_file) return bad_field("file", "missing: upload the audio as the form's `file` field");
  if (word_timestamps) {
    return bad_field("timestamp_granularities", "word timestamps are not supported (the recognizer gives none); "
                                                "ask for segment");
  }
  return out;
}

formatted_body format_transcript(const transcription_request& request, const agent::clip_transcription& heard) {
  const std::string& text = heard.heard.text;
  switch (request.format) {
    case transcript_format::text:
      return {"text/plain; charset=utf-8", text + "\n"};
    case transcript_format::srt:
      return {"application/x-subrip; charset=utf-8",
              text.empty() ? std::string()
                           : "1\n" + subtitle_time(0, ',') + " --> " + subtitle_time(heard.duration_s, ',') + "\n" +
                                 text + "\n\n"};
    case transcript_format::vtt:
      return {"text/vtt; charset=utf-8",
              "WEBVTT\n\n" + (text.empty() ? std::string()
                                           : subtitle_time(0, '.') + " --> " + subtitle_time(heard.duration_s, '.') +
                                                 "\n" + text + "\n\n")};
    case transcript_format::verbose_json: {
      json segments = json::array();
      if (!text.empty()) {
        // One segment: the clip is one utterance. avg_logprob is the log of the recognizer's
        // posterior for the whole transcript (0 when it gives none).
        const double logprob = heard.heard.confidence ? std::log(std::max(*heard.heard.confidence, 1e-12)) : 0.0;
        segments.push_back({{"id", 0},
                            {"seek", 0},
                            {"start", 0.0},
                            {"end", heard.duration_s},
                            {"text", text},
                            {"tokens", json::array()},
                            {"temperature", 0.0},
                            {"avg_logprob", logprob},
                            {"compression_ratio", 1.0},
                            {"no_speech_prob", heard.speech_found ? 0.0 : 1.0}});
      }
      const json body = {{"task", "transcribe"},    {"language", "english"}, {"duration", heard.duration_s},
                         {"text", text},            {"segments", segments},  {"usage", usage_of(heard)}};
      return {"application/json", body.dump() + "\n"};
    }
    case transcript_format::json:
      break;
  }
  return {"application/json", json({{"text", text}, {"usage", usage_of(heard)}}).dump() + "\n"};
}

http_response answer_transcription(server_state& server, const http_request& req, std::stop_token stop) {
  auto request = parse_transcription_request(req[http::field::content_type], req.body());
  if (!request) {
    const auto& e = request.error();
    return openai_error(req, e.code == errc::unsupported_format ? http::status::unsupported_media_type : http::status::bad_request,
                        e.message, error_param(e.message));
  }
  auto clip = audio::decode_audio(request->audio, request->filename);
  if (!clip) return openai_error(req, http::status::bad_request, "file: " + clip.error().message, "file");
  const auto engines = server.engines();
  if (!engines.asr) return openai_error(req, http::status::service_unavailable, "no recognizer is loaded");
  const auto& session = server.config().session;
  auto heard = agent::transcribe_clip(*engines.asr, clip->samples,
                                      {.frontend = session.frontend,
                                       .denoised = session.recognizer_hears_denoised,
                                       .denoise_below_snr_db = session.recognizer_denoised_below_snr_db,
                                       .preroll_ms = session.preroll_ms},
                                      std::move(stop));
  if (!heard) {
    const auto& e = heard.error();
    PARLEY_LOG(warn, "net: /v1/audio/transcriptions failed: " << e.describe());
    const auto status = e.code == errc::cancelled ? http::status::service_unavailable
                        : e.code == errc::timeout ? http::status::gateway_timeout
                                                  : http::status::internal_server_error;
    return openai_error(req, status, e.code == errc::cancelled ? "the server is stopping" : e.message);
  }
  if (request->stream) {
    // Server-sent events as OpenAI streams them; the recognizer's transcript is final at once, so
    // one delta holds all of it.
    const auto& text = heard->heard.text;
    std::string events;
    if (!text.empty()) events += "data: " + json({{"type", "transcript.text.delta"}, {"delta", text}}).dump() + "\n\n";
    events += "data: " + json({{"type", "transcript.text.done"}, {"text", text}}).dump() + "\n\n";
    return make_response(req, http::status::ok, std::move(events), "text/event-stream");
  }
  auto formatted = format_transcript(*request, *heard);
  return make_response(req, http::status::ok, std::move(formatted.body), formatted.content_type);
}

// ---- speech -------------------------------------------------------------------------------------

result<speech_request> parse_speech_request(std::string_view body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return make_error(errc::invalid_argument, "the body must be a JSON object");
  speech_request out;
  bool have_input = false;
  bool have_voice = false;
  for (const auto& [key, value] : doc.items()) {
    if (key == "input") {
      if (!value.is_string()) return bad_field("input", "must be a string");
      out.input = value.get<std::string>();
      have_input = true;
    } else if (key == "voice") {
      // A name, or OpenAI's custom voice reference {"id": ...}.
      if (value.is_string()) {
        out.voice = value.get<std::string>();
      } else if (value.is_object() && value.contains("id") && value["id"].is_string()) {
        out.voice = value["id"].get<std::string>();
      } else {
        return bad_field("voice", "must be a voice name");
      }
      have_voice = true;
    } else if (key == "model") {
      if (!value.is_string()) return bad_field("model", "must be a string");
      out.model = value.get<std::string>();
    } else if (key == "response_format") {
      if (!value.is_string()) return bad_field("response_format", "must be a string");
      const auto format = value.get<std::string>();
      if (format == "wav") out.format = speech_format::wav;
      else if (format == "pcm") out.format = speech_format::pcm;
      else return bad_field("response_format", "'" + format.substr(0, 32) + "' is not supported: parley writes wav or pcm");
    } else if (key == "stream_format") {
      if (value != "audio" && value != "sse") return bad_field("stream_format", "must be audio or sse");
      out.sse = value == "sse";
    } else if (key == "speed") {
      if (!value.is_number() || value.get<double>() != 1.0) {
        return bad_field("speed", "parley's voices speak at their own rate: only 1.0 is supported");
      }
    } else if (key == "instructions") {
      if (!value.is_string()) return bad_field("instructions", "must be a string");
      // Accepted and not used: parley's voices take no style instructions.
    } else {
      return bad_field(key.substr(0, 64), "unknown field");
    }
  }
  if (!have_input) return bad_field("input", "missing: the text to speak");
  // The JSON parser has checked the UTF-8: code points are the bytes that do not continue one.
  const auto n_chars = static_cast<std::size_t>(std::count_if(
      out.input.begin(), out.input.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u; }));
  if (n_chars == 0) return bad_field("input", "is empty");
  if (n_chars > k_max_speech_input_chars) {
    return bad_field("input", "is " + std::to_string(n_chars) + " characters long; the limit is " +
                                  std::to_string(k_max_speech_input_chars));
  }
  if (!have_voice) return bad_field("voice", "missing (any OpenAI voice name speaks with the server's voice)");
  return out;
}

std::string_view speech_content_type(const speech_request& request) {
  if (request.sse) return "text/event-stream";
  return request.format == speech_format::pcm ? "audio/pcm" : "audio/wav";
}

std::string speech_sse_delta(std::string_view audio_bytes) {
  return "data: " + json({{"type", "speech.audio.delta"}, {"audio", base64_encode(audio_bytes)}}).dump() + "\n\n";
}

std::string speech_sse_done(const speech_request& request) {
  // parley counts no model tokens; the input's words stand in for them.
  const auto words = static_cast<std::int64_t>(std::count(request.input.begin(), request.input.end(), ' ') + 1);
  const json usage = {{"input_tokens", words}, {"output_tokens", 0}, {"total_tokens", words}};
  return "data: " + json({{"type", "speech.audio.done"}, {"usage", usage}}).dump() + "\n\n";
}

}  // namespace parley::net
