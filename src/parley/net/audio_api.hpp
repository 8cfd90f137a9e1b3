// net/audio_api — the OpenAI audio endpoints of `parley serve`, so that any OpenAI client can use
// parley's recognizer and voices:
//   POST /v1/audio/transcriptions  multipart/form-data upload (file, model, language, prompt,
//        response_format json|text|verbose_json|srt|vtt, stream, timestamp_granularities[]) →
//        the transcript, recognized as a live session would (agent/clip_transcriber.hpp)
//   POST /v1/audio/speech  JSON {model, input, voice, response_format wav|pcm, speed,
//        stream_format audio|sse} → the audio, streamed as it is synthesized: 24 kHz mono PCM16
//        (pcm: raw little-endian, as OpenAI's; wav: a streaming WAV header whose sizes are unknown)
// docs/protocol.md ("OpenAI audio endpoints") lists every field, what parley does with it, and
// every difference from OpenAI's API.
//
// Role: the pure halves — reading a request into native types (every refusal a clear message
// naming the field), writing a transcript in the format asked for, the speech stream's framing —
// and answer_transcription(), the whole blocking transcription request. The streaming speech
// response is written by speech_stream.hpp on the connection's strand.
// Errors: the body is OpenAI's error object ({"error": {"message", "type", "param", "code"}}), so
// OpenAI clients show the message.
// Threading: pure functions, except answer_transcription(), which blocks (front-end and
// recognizer): run it off the io threads (http_session.hpp runs it on the server's audio pool).
// Units: seconds in transcripts; 24 kHz samples in the speech stream.
#pragma once

#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "parley/agent/clip_transcriber.hpp"
#include "parley/core/error.hpp"
#include "parley/net/http_routes.hpp"

namespace parley::net {

class server_state;

/// An error response in OpenAI's shape: {"error": {"message", "type", "param", "code"}}. `type` is
/// "invalid_request_error" for 4xx and "server_error" for 5xx; `param` names the field, when one.
http_response openai_error(const http_request& req, boost::beast::http::status status, std::string_view message,
                           std::string_view param = {});

/// The field a refusal's message names ("input: is empty" → "input"), or "" when it names none.
std::string_view error_param(std::string_view message);

// ---- POST /v1/audio/transcriptions ----

enum class transcript_format : std::uint8_t { json, text, verbose_json, srt, vtt };

struct transcription_request {
  std::string_view audio;  // the uploaded file's bytes (a view into the request body)
  std::string filename;    // as the client named it ("upload" when it did not)
  std::string model;       // any name: parley has one recognizer (kept for the response log)
  transcript_format format = transcript_format::json;
  bool stream = false;     // answer as server-sent events (transcript.text.delta, transcript.text.done)
};

/// A transcription request from its multipart/form-data body. A refusal (errc::invalid_argument or
/// unsupported_format) carries a message that names the field; error().code decides 400 or 415.
/// Refused: no `file`; an unknown field; a language other than English; response_format
/// diarized_json; timestamp_granularities `word` (parley's recognizer gives no word timings).
result<transcription_request> parse_transcription_request(std::string_view content_type, std::string_view body);

/// The response body (and its Content-Type) for `heard` in the format asked for.
struct formatted_body {
  std::string content_type;
  std::string body;
};
formatted_body format_transcript(const transcription_request& request, const agent::clip_transcription& heard);

/// The whole request, blocking: read, decode the upload, transcribe with the server's recognizer
/// and front-end settings, answer. `stop`: the server is stopping.
http_response answer_transcription(server_state& server, const http_request& req, std::stop_token stop);

// ---- POST /v1/audio/speech ----

/// What the speech stream carries: the rate OpenAI's pcm format has.
constexpr int k_speech_rate_hz = 24000;
/// The longest `input` OpenAI accepts, in characters (parley counts code points).
constexpr std::size_t k_max_speech_input_chars = 4096;

enum class speech_format : std::uint8_t { wav, pcm };

struct speech_request {
  std::string input;
  std::string voice;  // any OpenAI voice name, or the server's own voice's name
  std::string model;  // any name
  speech_format format = speech_format::wav;
  bool sse = false;   // stream_format "sse": speech.audio.delta / speech.audio.done events
};

/// A speech request from its JSON body. Refused (errc::invalid_argument, the message names the
/// field): not a JSON object; `input` missing, empty or longer than k_max_speech_input_chars;
/// `voice` missing; a response_format parley does not write (mp3, opus, aac, flac); a speed other
/// than 1; an unknown field.
result<speech_request> parse_speech_request(std::string_view body);

/// The Content-Type of the response: audio/wav, audio/pcm, or text/event-stream for sse.
std::string_view speech_content_type(const speech_request& request);
/// One server-sent event of the sse stream: {"type":"speech.audio.delta","audio":"<base64>"}.
std::string speech_sse_delta(std::string_view audio_bytes);
/// The last event: {"type":"speech.audio.done","usage":{...}} (tokens: the input's words).
std::string speech_sse_done(const speech_request& request);

}  // namespace parley::net
