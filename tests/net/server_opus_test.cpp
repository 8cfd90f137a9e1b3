// The realtime server end to end with Opus on the wire: Opus input at 48 kHz decoded and heard,
// unknown formats refused, Opus output in 20 ms packets that decode to the reply.
#include <gtest/gtest.h>

#include <opus.h>

#include <algorithm>

#include "server_fixture.hpp"

namespace parley::net {
namespace {

using namespace test;

// ---- Opus input ----------------------------------------------------------------------------------

/// 20 ms Opus packets of `pcm` (mono at rate_hz), one per element.
std::vector<std::vector<std::uint8_t>> opus_packets(const std::vector<std::int16_t>& pcm, int rate_hz) {
  int err = 0;
  OpusEncoder* enc = opus_encoder_create(rate_hz, 1, OPUS_APPLICATION_VOIP, &err);
  EXPECT_EQ(err, OPUS_OK);
  const auto frame = static_cast<std::size_t>(rate_hz / 50);
  std::vector<std::vector<std::uint8_t>> packets;
  std::vector<std::int16_t> block(frame);
  for (std::size_t i = 0; i < pcm.size(); i += frame) {
    std::fill(block.begin(), block.end(), 0);
    std::copy_n(pcm.begin() + static_cast<std::ptrdiff_t>(i), std::min(frame, pcm.size() - i), block.begin());
    std::vector<std::uint8_t> packet(1500);
    const int n = opus_encode(enc, block.data(), static_cast<int>(frame), packet.data(), static_cast<opus_int32>(packet.size()));
    EXPECT_GT(n, 0);
    // Shrink with erase, not resize: GCC 12 at -O2 cannot see that n <= 1500 and warns about a
    // growing resize that never happens (-Wstringop-overflow).
    packet.erase(packet.begin() + std::clamp<std::ptrdiff_t>(n, 0, static_cast<std::ptrdiff_t>(packet.size())),
                 packet.end());
    packets.push_back(std::move(packet));
  }
  opus_encoder_destroy(enc);
  return packets;
}

TEST(server_opus, opus_input_at_48khz_is_decoded_and_heard) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(48000, {{"input_audio_format", "opus"}});
  auto created = c.read_until("session.created");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->j["session"]["input_audio_format"], "opus");
  EXPECT_EQ(created->j["session"]["output_audio_format"], "pcm16");

  // An undecodable packet and an empty message: specific errors, the session goes on.
  c.send_bytes({0xff, 0xff, 0xff});
  auto err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "invalid_opus");
  c.send_bytes({});
  err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "invalid_opus");

  for (const auto& packet : opus_packets(script_audio(k_one_question, 48000), 48000)) c.send_bytes(packet);
  c.send_json({{"type", "input_audio_buffer.commit"}});
  ASSERT_TRUE(c.read_until("session.finished")) << "closed=" << c.closed() << " timed_out=" << c.timed_out();
  EXPECT_NE(c.index_of("input_audio_buffer.speech_started"), SIZE_MAX);
  const auto i_final = c.index_of("conversation.item.input_audio_transcription.completed");
  ASSERT_NE(i_final, SIZE_MAX);
  EXPECT_EQ(c.log[i_final].j["transcript"], "what time is it");
  EXPECT_NE(c.index_of("<audio>"), SIZE_MAX) << "the reply is PCM16 as before";
  c.close();
}

TEST(server_opus, unknown_audio_formats_are_refused) {
  test_server ts;
  ws_client c;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(16000, {{"input_audio_format", "mp3"}});
  auto err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "unsupported_audio_format");
  c.start(44100, {{"input_audio_format", "opus"}});
  err = c.read_until("error");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->j["error"]["code"], "unsupported_sample_rate");
  c.close();
}

TEST(server_opus, opus_output_sends_20ms_packets_that_decode_to_the_reply) {
  test_server ts;
  ws_client c;
  c.opus_audio = true;
  ASSERT_EQ(c.connect(ts.port()), 0);
  c.start(16000, {{"output_audio_format", "opus"}, {"output_sample_rate_hz", 48000}});
  auto created = c.read_until("session.created");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->j["session"]["output_audio_format"], "opus");
  c.send_json({{"type", "conversation.item.create"}, {"text", "what time is it"}});
  auto done = c.read_until("response.audio.done");
  ASSERT_TRUE(done);
  const auto i_start = c.index_of("response.audio.start");
  ASSERT_NE(i_start, SIZE_MAX);
  EXPECT_EQ(c.log[i_start].j["format"], "opus");
  EXPECT_EQ(c.log[i_start].j["sample_rate_hz"], 48000);

  int err = 0;
  OpusDecoder* dec = opus_decoder_create(48000, 1, &err);
  ASSERT_EQ(err, OPUS_OK);
  std::uint64_t offset = 0;
  double energy = 0;
  std::vector<std::int16_t> pcm(5760);
  for (const auto& m : c.log) {
    if (!m.binary) continue;
    ASSERT_GT(m.raw.size(), k_audio_header_bytes);
    const std::uint32_t frame_offset = m.raw[4] | (m.raw[5] << 8) | (m.raw[6] << 16) | (static_cast<std::uint32_t>(m.raw[7]) << 24);
    EXPECT_EQ(frame_offset, offset);
    const int n = opus_decode(dec, m.raw.data() + k_audio_header_bytes, static_cast<opus_int32>(m.raw.size() - k_audio_header_bytes),
                              pcm.data(), static_cast<int>(pcm.size()), 0);
    ASSERT_EQ(n, 960) << "one 20 ms packet per message";
    for (int i = 0; i < n; ++i) energy += static_cast<double>(pcm[static_cast<std::size_t>(i)]) * pcm[static_cast<std::size_t>(i)];
    offset += static_cast<std::uint64_t>(n);
  }
  opus_decoder_destroy(dec);
  EXPECT_GT(offset, 0u);
  EXPECT_EQ(done->j["n_samples"], offset);
  EXPECT_GT(energy, 0.0) << "the decoded reply is not silence";
  c.close();
}

}  // namespace
}  // namespace parley::net
