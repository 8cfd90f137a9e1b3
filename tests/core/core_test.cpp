#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include <thread>
#include <vector>

#include "parley/core/cancel.hpp"
#include "parley/core/clock.hpp"
#include "parley/core/error.hpp"
#include "parley/core/events.hpp"
#include "parley/core/ring.hpp"

namespace parley {
namespace {

TEST(result, carries_value_or_error) {
  result<int> ok = 42;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 42);
  result<int> bad = make_error(errc::not_found, "no such file: x.wav");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::not_found);
  EXPECT_EQ(bad.error().describe(), "not_found: no such file: x.wav");
  status s;
  EXPECT_TRUE(s);
  status f = make_error(errc::cancelled, "");
  EXPECT_FALSE(f);
  EXPECT_EQ(f.error().describe(), "cancelled");
}

TEST(manual_clock, moves_only_when_told) {
  manual_clock c;
  const auto t0 = c.now();
  EXPECT_EQ(c.now(), t0);
  c.advance_ms(12.5);
  EXPECT_DOUBLE_EQ(to_ms(c.now() - t0), 12.5);
}

TEST(media_time, converts_between_samples_and_ms) {
  EXPECT_EQ(ms_to_samples(20), 320);
  EXPECT_DOUBLE_EQ(samples_to_ms(16000), 1000.0);
  EXPECT_EQ(ms_to_samples(10, 48000), 480);
}

TEST(generation_fence, fences_old_generations) {
  generation_fence fence;
  const auto g1 = fence.open_next();
  EXPECT_TRUE(fence.is_current(g1));
  const auto g2 = fence.open_next();
  EXPECT_FALSE(fence.is_current(g1));
  EXPECT_TRUE(fence.is_current(g2));
  fence.close_all();
  EXPECT_FALSE(fence.is_current(g2));
  EXPECT_GT(fence.active(), g2);
}

TEST(bounded_ring, drops_oldest_when_full_and_counts) {
  bounded_ring<int> ring(3);
  for (int i = 0; i < 5; ++i) ring.push(i);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.n_dropped(), 2u);
  EXPECT_EQ(*ring.pop(), 2);
  EXPECT_EQ(*ring.pop(), 3);
  EXPECT_EQ(*ring.pop(), 4);
  EXPECT_FALSE(ring.pop());
}

TEST(bounded_ring, is_safe_across_threads) {
  bounded_ring<int> ring(64);
  std::thread producer([&] { for (int i = 0; i < 10000; ++i) ring.push(i); });
  int last = -1, n = 0;
  while (n < 100000) {
    if (auto v = ring.pop()) { EXPECT_GT(*v, last); last = *v; }
    ++n;
    if (last == 9999) break;
  }
  producer.join();
  while (auto v = ring.pop()) { EXPECT_GT(*v, last); last = *v; }
  EXPECT_EQ(last, 9999);
}

TEST(events, have_classes_and_names) {
  EXPECT_EQ(class_of(interrupt_event{}), event_class::realtime);
  EXPECT_EQ(class_of(output_audio_chunk{}), event_class::data);
  EXPECT_EQ(class_of(token_chunk{}), event_class::data);
  EXPECT_EQ(class_of(end_of_stream{}), event_class::sticky);
  EXPECT_EQ(class_of(transcript_final{}), event_class::control);
  EXPECT_STREQ(name_of(output_audio_chunk{}), "output_audio_chunk");
  EXPECT_STREQ(name_of(interrupt_event{}), "interrupt");
}

// Every alternative of the variant has a class and a name of its own (a new event type that
// forgets its k_class does not compile; one that forgets its name would print "?").
template <std::size_t... I>
void check_every_alternative(std::index_sequence<I...>) {
  std::set<std::string> names;
  (names.insert(name_of(event_body(std::in_place_index<I>))), ...);
  EXPECT_EQ(names.size(), sizeof...(I));
}

TEST(events, every_type_has_its_own_name) {
  check_every_alternative(std::make_index_sequence<std::variant_size_v<event_body>>());
}

}  // namespace
}  // namespace parley
