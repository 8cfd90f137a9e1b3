#include "parley/text/utf8.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace parley::text {
namespace {

constexpr std::string_view k_fffd = "\xEF\xBF\xBD";

TEST(decode_utf8, decodes_each_length) {
  EXPECT_EQ(decode_utf8("A").value, U'A');
  EXPECT_EQ(decode_utf8("\u00E9").value, U'\u00E9');
  EXPECT_EQ(decode_utf8("\u20AC").value, U'\u20AC');
  const utf8_code_point emoji = decode_utf8("\U0001F600");
  EXPECT_EQ(emoji.value, U'\U0001F600');
  EXPECT_EQ(emoji.n_bytes, 4u);
  EXPECT_EQ(emoji.status, utf8_status::valid);
}

TEST(decode_utf8, reports_truncated_and_invalid) {
  EXPECT_EQ(decode_utf8("\xF0\x9F\x98").status, utf8_status::truncated);
  EXPECT_EQ(decode_utf8("\xF0\x9F\x98").n_bytes, 3u);
  const utf8_code_point broken = decode_utf8("\xE2\x28\xA1");  // second byte out of range
  EXPECT_EQ(broken.status, utf8_status::invalid);
  EXPECT_EQ(broken.n_bytes, 1u);
  EXPECT_EQ(broken.value, U'\uFFFD');
}

struct utf8_case {
  const char* name;
  std::string_view bytes;
  bool valid;
  std::size_t complete_prefix;
  std::string_view sanitized;
};

class utf8_table : public testing::TestWithParam<utf8_case> {};

TEST_P(utf8_table, is_valid) { EXPECT_EQ(is_valid_utf8(GetParam().bytes), GetParam().valid); }
TEST_P(utf8_table, complete_prefix) {
  EXPECT_EQ(utf8_complete_prefix(GetParam().bytes), GetParam().complete_prefix);
}
TEST_P(utf8_table, sanitize) { EXPECT_EQ(sanitize_utf8(GetParam().bytes), GetParam().sanitized); }

INSTANTIATE_TEST_SUITE_P(
    cases, utf8_table,
    testing::Values(
        utf8_case{"empty", "", true, 0, ""},
        utf8_case{"ascii", "abc", true, 3, "abc"},
        utf8_case{"mixed", "a\u00E9\u4F60\U0001F600", true, 10, "a\u00E9\u4F60\U0001F600"},
        utf8_case{"truncated_two", "a\xC3", false, 1, "a\xEF\xBF\xBD"},
        utf8_case{"truncated_three", "ab\xE4\xBD", false, 2, "ab\xEF\xBF\xBD"},
        utf8_case{"truncated_four", "\xF0\x9F\x98", false, 0, "\xEF\xBF\xBD"},
        utf8_case{"stray_continuation", "a\x80z", false, 3, "a\xEF\xBF\xBDz"},
        utf8_case{"trailing_continuations", "a\x80\x80\x80\x80", false, 5,
                  "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"invalid_lead", "\xFF\xFE", false, 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"overlong_two", "\xC0\xAF", false, 2, "\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"overlong_three", "\xE0\x80\xAF", false, 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"overlong_four", "\xF0\x80\x80\xAF", false, 4,
                  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"surrogate", "\xED\xA0\x80", false, 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"above_max", "\xF4\x90\x80\x80", false, 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
        utf8_case{"max_code_point", "\xF4\x8F\xBF\xBF", true, 4, "\xF4\x8F\xBF\xBF"},
        utf8_case{"cut_sequence_then_ascii", "\xE2\x82z", false, 3, "\xEF\xBF\xBDz"},
        utf8_case{"cut_sequence_then_truncated", "\xE2\x82\xF0\x9F", false, 2, "\xEF\xBF\xBD\xEF\xBF\xBD"}),
    [](const testing::TestParamInfo<utf8_case>& test) { return std::string(test.param.name); });

TEST(sanitize_utf8, custom_replacement) {
  EXPECT_EQ(sanitize_utf8("a\xFF" "b\xE2\x82", ""), "ab");
  EXPECT_EQ(sanitize_utf8("a\xFF" "b", "?"), "a?b");
  EXPECT_EQ(sanitize_utf8("\xFF", k_fffd), sanitize_utf8("\xFF"));
}

TEST(utf8_complete_prefix, splits_never_break_a_code_point) {
  const std::string_view text = "a\u00E9\u4F60\U0001F600";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    const std::size_t n = utf8_complete_prefix(text.substr(0, cut));
    EXPECT_TRUE(is_valid_utf8(text.substr(0, n))) << cut;
    EXPECT_TRUE(is_valid_utf8(text.substr(n))) << cut;
    EXPECT_LE(cut - n, 3u) << cut;
  }
}

}  // namespace
}  // namespace parley::text
