// The filler bank with the real embedded voice (flite): every word of "One moment." and "Let me
// check." is synthesized on its own, trimmed and joined, so each boundary is exact and each word
// is audible speech of a plausible length. Label real_engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "parley/agent/filler.hpp"
#include "parley/engines/flite/flite_synthesizer.hpp"


namespace parley::agent {
namespace {

double rms(std::span<const std::int16_t> pcm) {
  double sum = 0;
  for (auto s : pcm) sum += static_cast<double>(s) * s;
  return pcm.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(pcm.size()));
}

TEST(filler_bank, built_word_by_word_with_flite_has_exact_audible_words) {
  auto tts = parley::flite::flite_synthesizer::create();
  ASSERT_TRUE(tts) << tts.error().describe();
  auto bank = build_filler_bank(**tts);
  ASSERT_TRUE(bank) << bank.error().describe();
  for (const auto* clip : {&(*bank)->waiting, &(*bank)->tool}) {
    SCOPED_TRACE(clip->text);
    EXPECT_EQ(clip->sample_rate_hz, (*tts)->caps().sample_rate_hz);
    EXPECT_EQ(clip->n_words(), clip == &(*bank)->waiting ? 2u : 3u);
    ASSERT_EQ(clip->word_ends.back(), clip->pcm.size());
    std::size_t begin = 0;
    for (const auto end : clip->word_ends) {
      ASSERT_GT(end, begin);
      const auto word = std::span<const std::int16_t>(clip->pcm).subspan(begin, end - begin);
      const double ms = samples_to_ms(static_cast<media_time>(word.size()), clip->sample_rate_hz);
      EXPECT_GT(ms, 80.0) << "a word is speech, not a click";
      EXPECT_LT(ms, 1200.0) << "the silence around each word is trimmed";
      EXPECT_GT(rms(word), 300.0) << "audible";
      begin = end;
    }
    // The whole filler is short: it fills a wait, it is not a sentence.
    EXPECT_LT(clip->duration_ms(), 2000.0);
  }
}

}  // namespace
}  // namespace parley::agent
