#include "parley/text/markdown.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace parley::text {
namespace {

struct markdown_case {
  const char* name;
  std::string_view input;
  std::string_view expected;
};

class strip_markdown_table : public testing::TestWithParam<markdown_case> {};

TEST_P(strip_markdown_table, strips) { EXPECT_EQ(strip_markdown(GetParam().input), GetParam().expected); }

std::string strip_in_pieces(std::string_view a, std::string_view b) {
  markdown_stripper stripper;
  std::string out = stripper.push(a);
  out += stripper.push(b);
  out += stripper.finish();
  return out;
}

TEST_P(strip_markdown_table, streaming_equals_whole) {
  const std::string_view input = GetParam().input;
  const std::string whole = strip_in_pieces(input, "");
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    EXPECT_EQ(strip_in_pieces(input.substr(0, cut), input.substr(cut)), whole) << "split at byte " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(
    cases, strip_markdown_table,
    testing::Values(
        markdown_case{"plain", "Just text.", "Just text."},
        markdown_case{"bold_and_italic", "**bold**, __strong__, *it* and _em_", "bold, strong, it and em"},
        markdown_case{"keeps_snake_case_and_products", "my_var = 2*3 or 2 * 3", "my_var = 2*3 or 2 * 3"},
        markdown_case{"strikethrough", "~~old~~ new, ~5", "old new, ~5"},
        markdown_case{"inline_code", "run `ls -la` now", "run ls -la now"},
        markdown_case{"headings", "# One\n## Two\n###### Six\n####### Seven", "One\nTwo\nSix\n####### Seven"},
        markdown_case{"bullets", "- a\n* b\n+ c\n\u2022 d", "a\nb\nc\nd"},
        markdown_case{"numbered", "1. first\n2) second\n1234. not a marker", "first\nsecond 1234. not a marker"},
        markdown_case{"blockquote", "> quoted\n>> nested", "quoted nested"},
        markdown_case{"link", "see [the docs](https://x.org/a_(b)) now", "see the docs) now"},
        markdown_case{"image_dropped", "a ![alt text](x.png) b", "a b"},
        markdown_case{"brackets_dropped", "cite [1] here", "cite 1 here"},
        markdown_case{"exclamation_kept", "wow! yes!", "wow! yes!"},
        markdown_case{"code_fence_dropped", "before\n```python\nx = 1\n\n**y**\n```\nafter", "before\nafter"},
        markdown_case{"unclosed_fence_drops_rest", "before\n```\ncode", "before"},
        markdown_case{"table", "| a | b |\n|---|---|\n| 1 | 2 |", "a, b\n1, 2"},
        markdown_case{"rules", "a\n\n---\n***\n___\n- - -\nb", "a\nb"},
        markdown_case{"paragraphs", "one\ntwo\n\n\nthree", "one two\nthree"},
        markdown_case{"spaces_collapse", "a \t  b\r\nc", "a b c"},
        markdown_case{"non_ascii_passes", "caf\u00E9 *\u00E9t\u00E9* \u4F60\u597D", "caf\u00E9 \u00E9t\u00E9 \u4F60\u597D"}),
    [](const testing::TestParamInfo<markdown_case>& test) { return std::string(test.param.name); });

TEST(markdown_stripper, holds_back_only_what_is_undecided) {
  markdown_stripper md;
  EXPECT_EQ(md.push("Hello "), "Hello ");
  EXPECT_EQ(md.push("**"), "");  // emphasis or a literal run: the next byte tells
  EXPECT_EQ(md.push("bo"), "bo");
  EXPECT_EQ(md.push("ld**"), "ld");
  EXPECT_EQ(md.push("\n-"), " ");  // a bullet, a rule or a dash: wait
  EXPECT_EQ(md.push(" item"), "\nitem");
  EXPECT_EQ(md.finish(), "");
}

TEST(markdown_stripper, finish_resets) {
  markdown_stripper md;
  EXPECT_EQ(md.push("```\ncode"), "");
  EXPECT_EQ(md.finish(), "");
  EXPECT_EQ(md.push("text"), "text");
}

}  // namespace
}  // namespace parley::text
