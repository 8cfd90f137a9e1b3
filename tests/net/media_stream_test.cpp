// net/media_stream: G.711 μ-law and A-law, and the telephone media-stream messages, both ways.
#include "parley/net/media_stream.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

namespace parley::net {
namespace {

using nlohmann::json;

TEST(mulaw, matches_the_g711_table_at_its_fixed_points) {
  EXPECT_EQ(mulaw_encode(std::int16_t{0}), 0xFF);
  EXPECT_EQ(mulaw_decode(std::uint8_t{0xFF}), 0);
  EXPECT_EQ(mulaw_decode(std::uint8_t{0x7F}), 0);  // "negative zero"
  EXPECT_EQ(mulaw_decode(std::uint8_t{0x80}), 32124);
  EXPECT_EQ(mulaw_decode(std::uint8_t{0x00}), -32124);
  EXPECT_EQ(mulaw_encode(std::int16_t{32767}), 0x80);   // clipped to the largest code
  EXPECT_EQ(mulaw_encode(std::int16_t{-32768}), 0x00);
}

TEST(mulaw, every_code_decodes_and_encodes_back_to_itself) {
  for (int code = 0; code < 256; ++code) {
    if (code == 0x7F) continue;  // -0 encodes as +0
    EXPECT_EQ(mulaw_encode(mulaw_decode(static_cast<std::uint8_t>(code))), code) << code;
  }
}

TEST(mulaw, a_round_trip_keeps_the_error_within_the_segment_step) {
  for (int s = -32000; s <= 32000; s += 7) {
    const auto back = mulaw_decode(mulaw_encode(static_cast<std::int16_t>(s)));
    // μ-law keeps about 4 mantissa bits: the error is under 1/16 of the magnitude (plus the bias step).
    EXPECT_LE(std::abs(back - s), std::abs(s) / 16 + 8) << s;
  }
}

TEST(alaw, matches_the_g711_table_at_its_fixed_points) {
  EXPECT_EQ(alaw_encode(std::int16_t{0}), 0xD5);
  EXPECT_EQ(alaw_decode(std::uint8_t{0xD5}), 8);
  EXPECT_EQ(alaw_decode(std::uint8_t{0x55}), -8);
  EXPECT_EQ(alaw_decode(std::uint8_t{0xAA}), 32256);
  EXPECT_EQ(alaw_decode(std::uint8_t{0x2A}), -32256);
  EXPECT_EQ(alaw_encode(std::int16_t{32767}), 0xAA);  // the largest code
  EXPECT_EQ(alaw_encode(std::int16_t{-32768}), 0x2A);
}

TEST(alaw, every_code_decodes_and_encodes_back_to_itself) {
  for (int code = 0; code < 256; ++code) {
    EXPECT_EQ(alaw_encode(alaw_decode(static_cast<std::uint8_t>(code))), code) << code;
  }
}

TEST(alaw, a_round_trip_keeps_the_error_within_the_segment_step) {
  for (int s = -32000; s <= 32000; s += 7) {
    const auto back = alaw_decode(alaw_encode(static_cast<std::int16_t>(s)));
    EXPECT_LE(std::abs(back - s), std::abs(s) / 16 + 16) << s;
  }
}

TEST(media_stream, decodes_a_providers_start_with_its_format_and_parameters) {
  const auto msg = decode_media_stream(R"({"event":"start","sequenceNumber":"1","streamSid":"MZ1",
    "start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],
             "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
             "customParameters":{"access_token":"t0k","context":"caller is Ann","n":5}}})");
  const auto* start = std::get_if<ms_start>(&std::get<ms_event>(msg));
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->stream_sid, "MZ1");
  EXPECT_EQ(start->call_sid, "CA1");
  EXPECT_EQ(start->encoding, "audio/x-mulaw");
  EXPECT_EQ(start->sample_rate_hz, 8000);
  EXPECT_EQ(start->channels, 1);
  EXPECT_EQ(start->custom_parameters.at("access_token"), "t0k");
  EXPECT_EQ(start->custom_parameters.at("context"), "caller is Ann");
  EXPECT_FALSE(start->custom_parameters.contains("n")) << "only string parameters";
}

TEST(media_stream, decodes_media_marks_dtmf_and_the_rest) {
  const auto media = decode_media_stream(
      R"({"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"2","timestamp":"20","payload":"/wA="}})");
  const auto* m = std::get_if<ms_media>(&std::get<ms_event>(media));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->track, "inbound");
  EXPECT_EQ(m->payload, (std::vector<std::uint8_t>{0xFF, 0x00}));

  const auto mark = decode_media_stream(R"({"event":"mark","streamSid":"MZ1","mark":{"name":"parley-3-160"}})");
  EXPECT_EQ(std::get<ms_mark>(std::get<ms_event>(mark)).name, "parley-3-160");
  const auto dtmf = decode_media_stream(R"({"event":"dtmf","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"#"}})");
  EXPECT_EQ(std::get<ms_dtmf>(std::get<ms_event>(dtmf)).digit, '#');
  EXPECT_TRUE(std::holds_alternative<ms_connected>(std::get<ms_event>(decode_media_stream(R"({"event":"connected","protocol":"Call"})"))));
  EXPECT_TRUE(std::holds_alternative<ms_stop>(std::get<ms_event>(decode_media_stream(R"({"event":"stop","stop":{}})"))));
}

TEST(media_stream, refuses_what_is_not_the_protocol_with_a_reason) {
  for (const char* bad : {"", "[1]", "{}", R"({"event":7})", R"({"event":"dance"})", R"({"event":"media"})",
                          R"({"event":"media","media":{"payload":"not base64!"}})",
                          R"({"event":"media","media":{"payload":"/wB/ICA"}})",  // unpadded: found by the fuzzer R"({"event":"media","media":{"payload":5}})",
                          R"({"event":"mark","mark":{}})", R"({"event":"dtmf","dtmf":{"digit":"12"}})",
                          R"({"event":"dtmf","dtmf":{"digit":"x"}})", R"({"event":"start","start":{}})",
                          R"({"event":"start","start":{"streamSid":"MZ","mediaFormat":{"sampleRate":"8000"}}})"}) {
    const auto msg = decode_media_stream(bad);
    const auto* err = std::get_if<ms_error>(&msg);
    ASSERT_NE(err, nullptr) << bad;
    EXPECT_FALSE(err->message.empty());
  }
}

TEST(media_stream, encodes_media_marks_and_clear_in_the_providers_shapes) {
  const std::vector<std::uint8_t> bytes = {0xFF, 0x00, 0x7F};
  const auto media = json::parse(encode_ms_media("MZ1", bytes));
  EXPECT_EQ(media["event"], "media");
  EXPECT_EQ(media["streamSid"], "MZ1");
  EXPECT_EQ(media["media"]["payload"], "/wB/");
  // and what parley sends decodes as media again (a provider echoing it would be understood)
  const auto back = decode_media_stream(media.dump());
  EXPECT_EQ(std::get<ms_media>(std::get<ms_event>(back)).payload, bytes);

  const auto mark = json::parse(encode_ms_mark("MZ1", "parley-2-800"));
  EXPECT_EQ(mark, (json{{"event", "mark"}, {"streamSid", "MZ1"}, {"mark", {{"name", "parley-2-800"}}}}));
  EXPECT_EQ(json::parse(encode_ms_clear("MZ1")), (json{{"event", "clear"}, {"streamSid", "MZ1"}}));
}

}  // namespace
}  // namespace parley::net
