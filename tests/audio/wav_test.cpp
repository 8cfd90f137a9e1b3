#include "parley/audio/wav.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "parley/audio/pcm.hpp"
#include "signals.hpp"

namespace parley::audio {
namespace {

using test::failed_with;

/// Writes interleaved float frames in any libsndfile format (the fixtures parley never writes).
void write_sndfile(const std::string& path, int format, int rate_hz, int channels, std::span<const float> interleaved) {
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = channels;
  info.format = format;
  ASSERT_TRUE(sf_format_check(&info)) << "format " << std::hex << format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  const auto n_frames = static_cast<sf_count_t>(interleaved.size() / static_cast<std::size_t>(channels));
  EXPECT_EQ(sf_writef_float(f, interleaved.data(), n_frames), n_frames);
  sf_close(f);
}

bool format_supported(int format) {
  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 1;
  info.format = format;
  return sf_format_check(&info) != 0;
}

std::vector<float> interleave(const std::vector<float>& left, const std::vector<float>& right) {
  std::vector<float> out;
  for (std::size_t i = 0; i < left.size(); ++i) {
    out.push_back(left[i]);
    out.push_back(right[i]);
  }
  return out;
}

/// Offset of a 4-byte chunk tag in a RIFF file.
std::size_t find_tag(const std::vector<char>& bytes, const char* tag) {
  for (std::size_t i = 12; i + 4 <= bytes.size(); ++i) {
    if (std::memcmp(bytes.data() + i, tag, 4) == 0) return i;
  }
  return std::string::npos;
}

void put_u16(std::vector<char>& bytes, std::size_t at, std::uint16_t v) { std::memcpy(bytes.data() + at, &v, 2); }
void put_u32(std::vector<char>& bytes, std::size_t at, std::uint32_t v) { std::memcpy(bytes.data() + at, &v, 4); }

class wav : public ::testing::Test {
 protected:
  test::temp_dir dir_;
  /// A valid 16 kHz PCM16 mono WAV of 0.1 s and its bytes.
  std::vector<char> valid_wav_bytes() {
    const std::string path = dir_.file("valid.wav");
    EXPECT_TRUE(write_wav(path, test::sine(440.0, 16000, 1600), 16000));
    return test::read_bytes(path);
  }
};

// --- reading and writing ---------------------------------------------------------------------

TEST_F(wav, round_trip_is_exact_at_16_khz) {
  const std::string path = dir_.file("round.wav");
  const auto samples = test::white_noise(16000, -6.0);
  ASSERT_TRUE(write_wav(path, samples, 16000));
  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip) << clip.error().describe();
  EXPECT_EQ(clip->samples, samples);
  EXPECT_EQ(clip->rate_hz, 16000);
  EXPECT_EQ(clip->source_rate_hz, 16000);
  EXPECT_EQ(clip->source_channels, 1);
  EXPECT_DOUBLE_EQ(clip->duration_ms(), 1000.0);
}

TEST_F(wav, decodes_a_file_held_in_memory_as_it_reads_one_from_disk) {
  const std::string path = dir_.file("memory.wav");
  const auto left = test::sine_f(1000.0, 44100, 22050, 0.5);
  write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, interleave(left, left));
  const auto bytes = test::read_bytes(path);
  auto from_disk = read_audio_file(path);
  auto from_memory = decode_audio(std::string_view(bytes.data(), bytes.size()), "upload.wav");
  ASSERT_TRUE(from_disk && from_memory) << (from_memory ? "" : from_memory.error().describe());
  EXPECT_EQ(from_memory->samples, from_disk->samples);
  EXPECT_EQ(from_memory->source_rate_hz, 44100);
  EXPECT_EQ(from_memory->source_channels, 2);

  // A streamed WAV (sizes 0xFFFFFFFF, as /v1/audio/speech writes): read to its real end.
  auto streamed = valid_wav_bytes();
  put_u32(streamed, 4, 0xFFFFFFFFu);
  put_u32(streamed, find_tag(streamed, "data") + 4, 0xFFFFFFFFu);
  auto clip = decode_audio(std::string_view(streamed.data(), streamed.size()), "streamed.wav");
  ASSERT_TRUE(clip) << clip.error().describe();
  EXPECT_EQ(clip->samples.size(), 1600u);

  EXPECT_TRUE(failed_with(decode_audio("", "empty.wav"), errc::empty_input, "'empty.wav' is empty"));
  EXPECT_TRUE(failed_with(decode_audio("certainly not audio", "notes.txt"), errc::unsupported_format, "'notes.txt'"));
  auto cut = valid_wav_bytes();
  cut.resize(30);  // the header cut short
  EXPECT_TRUE(failed_with(decode_audio(std::string_view(cut.data(), cut.size()), "cut.wav"), errc::unsupported_format, "cut.wav"));
}

TEST_F(wav, reads_44k1_stereo_float_and_downmixes) {
  const std::string path = dir_.file("stereo_float.wav");
  const auto left = test::sine_f(1000.0, 44100, 44100, 0.5);
  const auto quiet = test::sine_f(1000.0, 44100, 44100, 0.1);
  write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, interleave(left, quiet));

  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip) << clip.error().describe();
  EXPECT_EQ(clip->source_rate_hz, 44100);
  EXPECT_EQ(clip->source_channels, 2);
  EXPECT_EQ(clip->rate_hz, 16000);
  ASSERT_EQ(clip->samples.size(), 16000u);
  const auto mid = std::span<const std::int16_t>(clip->samples).subspan(4000, 8000);
  EXPECT_NEAR(test::count_rising_zero_crossings(mid), 500, 1);
  // The mean of peak 0.5 and peak 0.1 in phase is peak 0.3: rms 0.3/sqrt(2) = -13.5 dBFS.
  EXPECT_NEAR(rms_dbfs(mid), 20.0 * std::log10(0.3 / std::sqrt(2.0)), 0.1);
}

TEST_F(wav, downmix_of_opposite_channels_cancels) {
  const std::string path = dir_.file("opposite.wav");
  const auto left = test::sine_f(440.0, 48000, 4800, 0.5);
  auto right = left;
  for (float& v : right) v = -v;
  write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, interleave(left, right));
  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->samples.size(), 1600u);
  EXPECT_LT(rms_dbfs(clip->samples), -80.0);
}

TEST_F(wav, reads_8_khz_and_upsamples) {
  const std::string path = dir_.file("8k.wav");
  write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, test::sine_f(440.0, 8000, 8000));
  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip) << clip.error().describe();
  EXPECT_EQ(clip->source_rate_hz, 8000);
  ASSERT_EQ(clip->samples.size(), 16000u);
  EXPECT_NEAR(test::count_rising_zero_crossings(std::span<const std::int16_t>(clip->samples).subspan(4000, 8000)), 220, 1);
}

TEST_F(wav, resamples_to_any_target_rate) {
  const std::string path = dir_.file("16k.wav");
  ASSERT_TRUE(write_wav(path, test::sine(440.0, 16000, 16000), 16000));
  for (int target_hz : {8000, 24000, 48000}) {
    auto clip = read_audio_file(path, target_hz);
    ASSERT_TRUE(clip);
    EXPECT_EQ(clip->rate_hz, target_hz);
    EXPECT_EQ(clip->samples.size(), static_cast<std::size_t>(target_hz));
    EXPECT_NEAR(clip->duration_ms(), 1000.0, 1e-9);
  }
}

TEST_F(wav, reads_other_encodings) {
  struct enc { int format; const char* name; double max_err_db; };
  for (auto [format, name, max_err_db] : {enc{SF_FORMAT_WAV | SF_FORMAT_PCM_24, "pcm24.wav", 0.05},
                                          enc{SF_FORMAT_WAV | SF_FORMAT_PCM_U8, "u8.wav", 0.5},
                                          enc{SF_FORMAT_WAV | SF_FORMAT_DOUBLE, "double.wav", 0.05},
                                          enc{SF_FORMAT_AIFF | SF_FORMAT_PCM_16, "x.aiff", 0.05},
                                          enc{SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "x.flac", 0.05},
                                          enc{SF_FORMAT_OGG | SF_FORMAT_VORBIS, "x.ogg", 1.0}}) {
    if (!format_supported(format)) {
      std::printf("[ info ] libsndfile here cannot write %s; skipped\n", name);
      continue;
    }
    const std::string path = dir_.file(name);
    const auto tone = test::sine_f(1000.0, 22050, 22050, 0.5);
    write_sndfile(path, format, 22050, 1, tone);
    auto clip = read_audio_file(path);
    ASSERT_TRUE(clip) << name << ": " << clip.error().describe();
    EXPECT_EQ(clip->source_rate_hz, 22050) << name;
    EXPECT_NEAR(static_cast<double>(clip->samples.size()), 16000.0, 1.0) << name;
    const auto mid = std::span<const std::int16_t>(clip->samples).subspan(4000, 8000);
    EXPECT_NEAR(test::count_rising_zero_crossings(mid), 500, 1) << name;
    EXPECT_NEAR(rms_dbfs(mid), -9.03, max_err_db) << name;
  }
}

TEST_F(wav, float_samples_beyond_full_scale_are_clipped) {
  const std::string path = dir_.file("loud.wav");
  const std::vector<float> loud = {2.0f, -3.0f, 0.5f, 1.0f};
  write_sndfile(path, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, loud);
  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->samples, (std::vector<std::int16_t>{32767, -32768, 16384, 32767}));
}

// --- errors ----------------------------------------------------------------------------------

TEST_F(wav, missing_file_is_not_found) {
  const std::string path = dir_.file("nope.wav");
  EXPECT_TRUE(failed_with(read_audio_file(path), errc::not_found, path));
  const std::string below_a_file = dir_.file("nope.wav/x.wav");
  EXPECT_TRUE(failed_with(read_audio_file(below_a_file), errc::not_found, below_a_file));
}

TEST_F(wav, directory_is_an_io_error) {
  const std::string path = dir_.file("folder.wav");
  std::filesystem::create_directory(path);
  auto r = read_audio_file(path);
  EXPECT_TRUE(failed_with(r, errc::io_error, path));
  EXPECT_NE(r.error().message.find("directory"), std::string::npos) << r.error().message;
}

TEST_F(wav, fifo_is_rejected_without_blocking) {
  const std::string path = dir_.file("pipe.wav");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  EXPECT_TRUE(failed_with(read_audio_file(path), errc::io_error, path));
}

TEST_F(wav, unreadable_file_is_an_io_error) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permissions do not stop reads";
  const std::string path = dir_.file("locked.wav");
  valid_wav_bytes();
  std::filesystem::copy_file(dir_.file("valid.wav"), path);
  std::filesystem::permissions(path, std::filesystem::perms::none);
  EXPECT_TRUE(failed_with(read_audio_file(path), errc::io_error, path));
}

TEST_F(wav, text_named_wav_is_unsupported_format) {
  const std::string path = dir_.file("notes.wav");
  const std::string text = "This is not audio.\nJust some notes that someone renamed to .wav\n";
  test::write_bytes(path, {text.begin(), text.end()});
  EXPECT_TRUE(failed_with(read_audio_file(path), errc::unsupported_format, path));
}

TEST_F(wav, zero_byte_file_is_empty_input) {
  const std::string path = dir_.file("zero.wav");
  test::write_bytes(path, {});
  EXPECT_TRUE(failed_with(read_audio_file(path), errc::empty_input, path));
}

TEST_F(wav, wav_without_samples_is_empty_input) {
  const std::string path = dir_.file("no_samples.wav");
  ASSERT_TRUE(write_wav(path, {}, 16000));
  EXPECT_GT(std::filesystem::file_size(path), 0u);
  EXPECT_TRUE(failed_with(read_audio_file(path), errc::empty_input, path));
}

TEST_F(wav, bad_target_rate_is_invalid_argument) {
  valid_wav_bytes();
  const std::string path = dir_.file("valid.wav");
  EXPECT_TRUE(failed_with(read_audio_file(path, 0), errc::invalid_argument, path));
  EXPECT_TRUE(failed_with(read_audio_file(path, 10'000'000), errc::invalid_argument, path));
}

TEST_F(wav, every_truncated_header_is_an_error) {
  const auto bytes = valid_wav_bytes();
  const std::size_t data_at = find_tag(bytes, "data");
  ASSERT_NE(data_at, std::string::npos);
  const std::size_t header_size = data_at + 8;
  const std::string path = dir_.file("cut.wav");
  for (std::size_t n = 1; n <= header_size; ++n) {
    test::write_bytes(path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n)});
    auto r = read_audio_file(path);
    ASSERT_FALSE(r) << "a header cut to " << n << " bytes was accepted";
    EXPECT_TRUE(r.error().code == errc::unsupported_format || r.error().code == errc::empty_input) << r.error().describe();
  }
}

TEST_F(wav, truncated_data_reads_what_is_there) {
  const auto bytes = valid_wav_bytes();
  const std::size_t header_size = find_tag(bytes, "data") + 8;
  const std::string path = dir_.file("short.wav");
  test::write_bytes(path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header_size + 200)});
  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip) << clip.error().describe();
  EXPECT_EQ(clip->samples.size(), 100u);
}

TEST_F(wav, random_bytes_are_unsupported_format) {
  const std::string path = dir_.file("random.wav");
  std::mt19937 rng(42);
  for (std::size_t size : {1u, 3u, 12u, 44u, 100u, 4096u, 65536u}) {
    std::vector<char> bytes(size);
    for (char& b : bytes) b = static_cast<char>(rng());
    test::write_bytes(path, bytes);
    EXPECT_TRUE(failed_with(read_audio_file(path), errc::unsupported_format, path)) << size << " bytes";
  }
}

TEST_F(wav, absurd_headers_are_unsupported_format) {
  const auto bytes = valid_wav_bytes();
  const std::size_t fmt_at = find_tag(bytes, "fmt ");
  ASSERT_NE(fmt_at, std::string::npos);
  const std::size_t channels_at = fmt_at + 10;
  const std::size_t rate_at = fmt_at + 12;
  const std::string path = dir_.file("absurd.wav");

  auto patched = [&](auto patch) {
    auto b = bytes;
    patch(b);
    test::write_bytes(path, b);
    return read_audio_file(path);
  };
  EXPECT_TRUE(failed_with(patched([&](auto& b) { put_u32(b, rate_at, 0); }), errc::unsupported_format, path));
  EXPECT_TRUE(failed_with(patched([&](auto& b) { put_u32(b, rate_at, 5'000'000); }), errc::unsupported_format, path));
  EXPECT_TRUE(failed_with(patched([&](auto& b) { put_u32(b, rate_at, 0xFFFFFFFFu); }), errc::unsupported_format, path));
  EXPECT_TRUE(failed_with(patched([&](auto& b) { put_u16(b, channels_at, 0); }), errc::unsupported_format, path));
  EXPECT_TRUE(failed_with(patched([&](auto& b) { put_u16(b, channels_at, 60000); }), errc::unsupported_format, path));
}

TEST_F(wav, a_lying_data_size_reads_the_real_samples) {
  auto bytes = valid_wav_bytes();
  put_u32(bytes, find_tag(bytes, "data") + 4, 0x7FFFFFF0u);
  const std::string path = dir_.file("liar.wav");
  test::write_bytes(path, bytes);
  auto clip = read_audio_file(path);
  ASSERT_TRUE(clip) << clip.error().describe();
  EXPECT_EQ(clip->samples.size(), 1600u);
}

TEST_F(wav, corrupted_headers_never_crash) {
  // Flip random bytes of the header and the first samples; any outcome but a crash (or a
  // nonsensical success) is fine. Run under ASan/UBSan this is the fuzz test.
  const auto bytes = valid_wav_bytes();
  const std::string path = dir_.file("fuzz.wav");
  std::mt19937 rng(1234);
  int n_errors = 0;
  for (int i = 0; i < 400; ++i) {
    auto b = bytes;
    const int n_flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n_flips; ++k) b[rng() % 64] = static_cast<char>(rng());
    if (i % 7 == 0) b.resize(rng() % b.size());
    test::write_bytes(path, b);
    auto r = read_audio_file(path);
    if (r) {
      EXPECT_EQ(r->rate_hz, 16000);
      EXPECT_FALSE(r->samples.empty());
      EXPECT_TRUE(is_valid_rate_hz(r->source_rate_hz));
      EXPECT_GE(r->source_channels, 1);
    } else {
      ++n_errors;
      EXPECT_NE(r.error().code, errc::internal) << r.error().describe();
      EXPECT_NE(r.error().message.find(path), std::string::npos);
    }
  }
  EXPECT_GT(n_errors, 0);
}

// --- wav_writer ------------------------------------------------------------------------------

TEST_F(wav, writer_appends_chunks_and_the_file_is_valid_before_close) {
  const std::string path = dir_.file("reply.wav");
  auto w = wav_writer::open(path, 16000);
  ASSERT_TRUE(w) << w.error().describe();
  const auto audio = test::white_noise(4800, -12.0);
  ASSERT_TRUE(w->append(std::span(audio).first(1000)));
  ASSERT_TRUE(w->append(std::span(audio).subspan(1000, 2000)));
  EXPECT_EQ(w->n_samples_written(), 3000);

  // Not closed yet (e.g. the process died here): the RIFF and data sizes already match.
  const auto bytes = test::read_bytes(path);
  const std::size_t data_at = find_tag(bytes, "data");
  ASSERT_NE(data_at, std::string::npos);
  std::uint32_t riff_size = 0, data_size = 0;
  std::memcpy(&riff_size, bytes.data() + 4, 4);
  std::memcpy(&data_size, bytes.data() + data_at + 4, 4);
  EXPECT_EQ(data_size, 3000u * 2u);
  EXPECT_EQ(riff_size, bytes.size() - 8u);
  EXPECT_EQ(bytes.size(), data_at + 8u + data_size);
  auto partial = read_audio_file(path);
  ASSERT_TRUE(partial) << partial.error().describe();
  EXPECT_EQ(partial->samples, std::vector<std::int16_t>(audio.begin(), audio.begin() + 3000));

  ASSERT_TRUE(w->append(std::span(audio).subspan(3000)));
  EXPECT_TRUE(w->close());
  EXPECT_FALSE(w->is_open());
  EXPECT_TRUE(w->close());  // idempotent
  EXPECT_TRUE(failed_with(w->append(audio), errc::io_error, path));

  auto full = read_audio_file(path);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->samples, audio);
}

TEST_F(wav, writer_closes_on_destruction_and_after_a_move) {
  const std::string path = dir_.file("moved.wav");
  const auto audio = test::sine(440.0, 24000, 2400);
  {
    auto w = wav_writer::open(path, 24000);
    ASSERT_TRUE(w);
    wav_writer moved = std::move(*w);
    ASSERT_TRUE(moved.append(audio));
  }
  auto clip = read_audio_file(path, 24000);
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->source_rate_hz, 24000);
  EXPECT_EQ(clip->samples, audio);
}

TEST_F(wav, writer_errors) {
  const std::string no_dir = dir_.file("missing_dir/out.wav");
  EXPECT_TRUE(failed_with(wav_writer::open(no_dir, 16000), errc::io_error, no_dir));
  EXPECT_TRUE(failed_with(write_wav(no_dir, test::sine(440.0, 16000, 10), 16000), errc::io_error, no_dir));
  const std::string ok_path = dir_.file("rate.wav");
  EXPECT_TRUE(failed_with(wav_writer::open(ok_path, 0), errc::invalid_argument, ok_path));
  EXPECT_TRUE(failed_with(wav_writer::open(dir_.file(""), 16000), errc::io_error, dir_.file("")));
}

TEST_F(wav, writer_reports_a_full_disk) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  auto w = wav_writer::open("/dev/full", 16000);
  if (!w) {
    EXPECT_TRUE(failed_with(w, errc::io_error, "/dev/full"));
    return;
  }
  const auto audio = test::sine(440.0, 16000, 16000);
  status appended = w->append(audio);
  status closed = w->close();
  EXPECT_FALSE(appended && closed) << "writing to a full disk reported success";
}

}  // namespace
}  // namespace parley::audio
