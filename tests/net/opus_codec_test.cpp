// opus_codec: creation as a result (no exceptions), 20 ms packets out, packets decoded to 16 kHz.
#include "parley/net/opus_codec.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <variant>

namespace parley::net {
namespace {

TEST(opus_codec, create_refuses_rates_opus_does_not_run_at) {
  for (int rate : {8000, 12000, 16000, 24000, 48000}) EXPECT_TRUE(opus_output::create(rate)) << rate;
  for (int rate : {0, 22050, 44100}) {
    auto encoder = opus_output::create(rate);
    ASSERT_FALSE(encoder) << rate;
    EXPECT_EQ(encoder.error().code, errc::invalid_argument);
    EXPECT_NE(encoder.error().message.find(std::to_string(rate) + " Hz"), std::string::npos);
  }
  EXPECT_TRUE(opus_input::create());
}

TEST(opus_codec, encoded_packets_decode_to_20ms_at_16khz) {
  auto encoder = opus_output::create(48000);
  auto decoder = opus_input::create();
  ASSERT_TRUE(encoder);
  ASSERT_TRUE(decoder);
  std::vector<std::int16_t> pcm(48000 / 20 + 100);  // 50 ms and a bit: two packets, then a padded one
  for (std::size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<std::int16_t>(8000 * std::sin(0.05 * static_cast<double>(i)));
  auto packets = encoder->push(pcm);
  EXPECT_EQ(packets.size(), 2u);
  for (auto& p : encoder->flush()) packets.push_back(std::move(p));
  ASSERT_EQ(packets.size(), 3u);
  EXPECT_TRUE(encoder->flush().empty()) << "nothing pending after a flush";
  for (const auto& p : packets) {
    EXPECT_EQ(p.n_samples, 960u);
    auto out = decoder->decode(p.bytes);
    ASSERT_TRUE(std::holds_alternative<std::vector<std::int16_t>>(out));
    EXPECT_EQ(std::get<std::vector<std::int16_t>>(out).size(), 320u);
  }
  auto bad = decoder->decode(std::vector<std::uint8_t>{});
  ASSERT_TRUE(std::holds_alternative<wire_error>(bad));
  EXPECT_EQ(std::get<wire_error>(bad).code, wire_errc::invalid_opus);
}

}  // namespace
}  // namespace parley::net
