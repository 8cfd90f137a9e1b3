#include "parley/text/chunker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace parley::text {
namespace {

using segments = std::vector<std::string>;

constexpr chunker_config k_sentences{.eager_first = false};

segments chunk_whole(std::string_view text, chunker_config config) {
  sentence_chunker chunker(config);
  segments out = chunker.push(text);
  for (std::string& s : chunker.flush()) out.push_back(std::move(s));
  return out;
}

segments chunk_pieces(const std::vector<std::string_view>& pieces, chunker_config config) {
  sentence_chunker chunker(config);
  segments out;
  for (const std::string_view piece : pieces) {
    for (std::string& s : chunker.push(piece)) out.push_back(std::move(s));
  }
  for (std::string& s : chunker.flush()) out.push_back(std::move(s));
  return out;
}

/// Splits `text` at the given byte offsets (sorted, in (0, size)).
std::vector<std::string_view> split_at(std::string_view text, const std::vector<std::size_t>& cuts) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    pieces.push_back(text.substr(start, cut - start));
    start = cut;
  }
  pieces.push_back(text.substr(start));
  return pieces;
}

struct chunk_case {
  const char* name;
  std::string_view input;
  segments expected;
  chunker_config config = k_sentences;
};

const std::vector<chunk_case>& chunk_cases() {
  static const std::vector<chunk_case> cases = {
      // sentence ends
      {"two_sentences", "Hello world. How are you?", {"Hello world.", "How are you?"}},
      {"exclaim_and_question", "Wow! That is great. Really?", {"Wow!", "That is great.", "Really?"}},
      {"mark_runs", "Wait?! Yes!!! Fine.", {"Wait?!", "Yes!!!", "Fine."}},
      {"no_space_no_cut", "Hello!Bye. Ok.", {"Hello!Bye.", "Ok."}},
      {"trailing_text_flushed", "Hello world. And then", {"Hello world.", "And then"}},
      {"no_terminator_at_all", "just some words", {"just some words"}},
      {"trailing_spaces", "Hello.   ", {"Hello."}},
      {"empty", "", {}},
      {"only_spaces", "  \n \n ", {}},
      {"collapses_spaces", "Hello    world.   Next\tone.", {"Hello world.", "Next one."}},
      {"quote_closes_sentence", "He said \"hi.\" Then he left.", {"He said \"hi.\"", "Then he left."}},
      {"bracket_closes_sentence", "It works (mostly.) Next one.", {"It works (mostly.)", "Next one."}},
      {"curly_quotes", "She said \u201Cyes.\u201D We left.", {"She said \u201Cyes.\u201D", "We left."}},
      {"opening_quote_starts_next", "It ended. \"Why?\" he asked.", {"It ended.", "\"Why?\" he asked."}},
      {"quoted_exclamation_then_capital", "Text \"hello!\" Then wait.", {"Text \"hello!\"", "Then wait."}},
      {"lowercase_after_dot_runs_on", "It was 5 ft. tall. Ok.", {"It was 5 ft. tall.", "Ok."}},
      {"number_ends_sentence", "I counted 42. Then I stopped.", {"I counted 42.", "Then I stopped."}},
      // abbreviations and initials
      {"title_abbreviation", "Dr. Smith arrived. He sat.", {"Dr. Smith arrived.", "He sat."}},
      {"several_titles", "Mr. and Mrs. Jones came. Good.", {"Mr. and Mrs. Jones came.", "Good."}},
      {"dotted_latin", "Use e.g. Python, i.e. the best. Done.", {"Use e.g. Python, i.e. the best.", "Done."}},
      {"dotted_country", "The U.S. Army won. Ok.", {"The U.S. Army won.", "Ok."}},
      {"dotted_degree", "She has a Ph.D. Really.", {"She has a Ph.D. Really."}},
      {"abbreviation_never_ends", "Meet at 5 p.m. Then eat.", {"Meet at 5 p.m. Then eat."}},
      {"etc_before_lowercase", "Apples, pears, etc. are fruit. Yes.", {"Apples, pears, etc. are fruit.", "Yes."}},
      {"vs_abbreviation", "It is Bob vs. Alice today. Fun.", {"It is Bob vs. Alice today.", "Fun."}},
      {"street", "St. Louis is nice. Go.", {"St. Louis is nice.", "Go."}},
      {"initials", "J. R. R. Tolkien wrote it. Read it.", {"J. R. R. Tolkien wrote it.", "Read it."}},
      {"number_abbreviation", "No. 5 is mine. No. I disagree.", {"No. 5 is mine.", "No.", "I disagree."}},
      {"abbreviation_in_parens", "Ask (Dr. Who) now. Ok.", {"Ask (Dr. Who) now.", "Ok."}},
      // numbers, URLs, e-mail
      {"decimal", "Pi is 3.14 roughly. Yes.", {"Pi is 3.14 roughly.", "Yes."}},
      {"version", "Version 1.2.3 is out. Update now.", {"Version 1.2.3 is out.", "Update now."}},
      {"time", "Meet at 5:30 today. Bye.", {"Meet at 5:30 today.", "Bye."}},
      {"thousands", "It costs 1,000.50 dollars. Ok.", {"It costs 1,000.50 dollars.", "Ok."}},
      {"url_inside", "Visit https://example.com/a.b?c=d for more. Thanks.",
       {"Visit https://example.com/a.b?c=d for more.", "Thanks."}},
      {"url_at_end", "Go to www.example.org. It is free.", {"Go to www.example.org.", "It is free."}},
      {"email_inside", "Mail a.b@c.co.uk today. Thanks.", {"Mail a.b@c.co.uk today.", "Thanks."}},
      {"email_at_end", "Write to help@example.com. We reply.", {"Write to help@example.com.", "We reply."}},
      // ellipses
      {"ellipsis_then_lowercase", "Well... maybe not. Ok.", {"Well... maybe not.", "Ok."}},
      {"ellipsis_then_capital", "Wait... The answer is no.", {"Wait...", "The answer is no."}},
      {"unicode_ellipsis_lowercase", "Hmm\u2026 let me think. Ok.", {"Hmm\u2026 let me think.", "Ok."}},
      {"unicode_ellipsis_capital", "Hmm\u2026 Fine.", {"Hmm\u2026", "Fine."}},
      {"leading_ellipsis_merges", "... Hello there.", {"... Hello there."}},
      // UTF-8 and other scripts
      {"accents", "Caf\u00E9 ol\u00E9. Tr\u00E8s bien!", {"Caf\u00E9 ol\u00E9.", "Tr\u00E8s bien!"}},
      {"cjk", "\u4F60\u597D\u3002\u6211\u5F88\u597D\uFF01\u4F60\u5462\uFF1F",
       {"\u4F60\u597D\u3002", "\u6211\u5F88\u597D\uFF01", "\u4F60\u5462\uFF1F"}},
      {"cjk_closing_quote", "\u4ED6\u8BF4\u201C\u597D\u3002\u201D\u7136\u540E\u8D70\u4E86\u3002",
       {"\u4ED6\u8BF4\u201C\u597D\u3002\u201D", "\u7136\u540E\u8D70\u4E86\u3002"}},
      {"emoji_inside", "Great job! \U0001F389 See you.", {"Great job!", "\U0001F389 See you."}},
      {"emoji_only_dropped", "Done! \U0001F389\U0001F44D", {"Done!"}},
      {"punctuation_only_dropped", "Hi there. ...", {"Hi there."}},
      {"invalid_bytes_dropped", "Bad \xFF byte \xC0\xAF here.", {"Bad byte here."}},
      {"truncated_at_end_dropped", "Cut \xE2\x82", {"Cut"}},
      // newlines and blocks
      {"soft_line_break", "First line\nsecond line.", {"First line second line."}},
      {"paragraphs", "First paragraph\n\nSecond paragraph", {"First paragraph", "Second paragraph"}},
      {"crlf", "Line one.\r\n\r\nLine two.", {"Line one.", "Line two."}},
      {"heading", "# Title\nSome text.", {"Title", "Some text."}},
      {"deep_heading", "###### Step one\nDo it.", {"Step one", "Do it."}},
      {"hashtag_is_text", "#hashtag is fun. Yes.", {"#hashtag is fun.", "Yes."}},
      {"bullets", "Options:\n- red\n- green\n* blue\n+ gray", {"Options:", "red", "green", "blue", "gray"}},
      {"nested_bullets", "- fruit\n  - apple pie", {"fruit", "apple pie"}},
      {"numbered_list", "Steps:\n1. Mix the flour.\n2. Bake it.\n10) Eat.",
       {"Steps:", "Mix the flour.", "Bake it.", "Eat."}},
      {"decimal_at_line_start", "1.5 liters is plenty. Yes.", {"1.5 liters is plenty.", "Yes."}},
      {"year_at_line_start", "2023. What a year.", {"2023.", "What a year."}},
      {"blockquote", "> Be kind.\n> Always.", {"Be kind.", "Always."}},
      {"table", "| Name | Age |\n|---|:--:|\n| Ann | 30 |", {"Name, Age", "Ann, 30"}},
      {"horizontal_rule", "Part one.\n\n---\n\nPart two.", {"Part one.", "Part two."}},
      {"code_block_not_spoken", "Run this:\n```bash\nls -la\necho hi.\n```\nThen check.", {"Run this:", "Then check."}},
      // inline markdown
      {"bold", "This is **very** important. Ok.", {"This is very important.", "Ok."}},
      {"underscores", "Use _snake_case_ names like my_var and 2*3 math.", {"Use snake_case names like my_var and 2*3 math."}},
      {"spaced_star", "Compute 2 * 3 now. Ok.", {"Compute 2 * 3 now.", "Ok."}},
      {"strikethrough_and_tilde", "It is ~~wrong~~ about ~5 km. Ok.", {"It is wrong about ~5 km.", "Ok."}},
      {"bold_label", "**Note:** be careful. Ok.", {"Note: be careful.", "Ok."}},
      {"bold_list_labels", "- **Speed:** fast\n- **Cost:** low", {"Speed: fast", "Cost: low"}},
      {"bold_abbreviation", "**Dr. Who** said hi. Bye.", {"Dr. Who said hi.", "Bye."}},
      {"inline_code", "Call `print()` now. Done.", {"Call print() now.", "Done."}},
      {"link", "See [the docs](https://x.org/a.b) for more. Bye.", {"See the docs for more.", "Bye."}},
      {"image", "Here ![a cat](cat.png) is a cat. Nice.", {"Here is a cat.", "Nice."}},
      {"unclosed_bold", "This is **bold", {"This is bold"}},
      // eager first segment
      {"eager_comma", "Sure, I can definitely help you with that, and here is more. Then, slowly, the rest.",
       {"Sure, I can definitely help you with that,", "and here is more.", "Then, slowly, the rest."}, {}},
      {"eager_semicolon", "The weather is nice today; let us go out.", {"The weather is nice today;", "let us go out."}, {}},
      {"eager_colon_not_time", "We meet at 5:30 in the lobby: bring a coat.",
       {"We meet at 5:30 in the lobby:", "bring a coat."}, {}},
      {"eager_too_few_words", "Yes, sure. Okay, fine, good, then, ok.", {"Yes, sure.", "Okay, fine, good, then, ok."}, {}},
      {"eager_em_dash", "I think the answer \u2014 honestly \u2014 is yes.",
       {"I think the answer \u2014", "honestly \u2014 is yes."}, {}},
      {"eager_spaced_hyphen", "Here is the deal - we go now.", {"Here is the deal -", "we go now."}, {}},
      {"eager_not_on_thousands", "It costs 1,000 dollars in total, sadly.", {"It costs 1,000 dollars in total,", "sadly."}, {}},
      {"eager_min_words_two", "Hi there, friend. Yes, it is me, truly.", {"Hi there,", "friend.", "Yes, it is me, truly."},
       {.eager_min_words = 2}},
      {"eager_off", "Sure, I can definitely help you with that, and more.",
       {"Sure, I can definitely help you with that, and more."}},
      // length limits
      {"max_cuts_at_space", "This sentence is quite long indeed and keeps going.",
       {"This sentence is", "quite long indeed", "and keeps going."}, {.eager_first = false, .max_segment_chars = 20}},
      {"max_prefers_clause", "Alpha beta gamma delta, eps zeta eta theta.",
       {"Alpha beta gamma delta,", "eps zeta eta theta."}, {.eager_first = false, .max_segment_chars = 30}},
      {"max_huge_word", "abcdefghijklmnop", {"abcdefghij", "klmnop"}, {.eager_first = false, .max_segment_chars = 10}},
      {"max_huge_word_utf8", "a\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9", {"a\u00E9\u00E9\u00E9\u00E9", "\u00E9\u00E9"},
       {.eager_first = false, .max_segment_chars = 10}},
      {"max_long_mark_run", "Yes!!!!!!!!!!!! Ok.", {"Yes!!!!!!!", "!!!!! Ok."}, {.eager_first = false, .max_segment_chars = 10}},
      {"min_merges_short", "Hi. Hello there friend. Ok.", {"Hi. Hello there friend.", "Ok."},
       {.eager_first = false, .min_segment_chars = 10}},
  };
  return cases;
}

class chunker_table : public testing::TestWithParam<chunk_case> {};

TEST_P(chunker_table, whole_text) {
  const chunk_case& c = GetParam();
  EXPECT_EQ(chunk_whole(c.input, c.config), c.expected);
}

TEST_P(chunker_table, streaming_equals_batch_at_every_split) {
  const chunk_case& c = GetParam();
  const segments whole = chunk_whole(c.input, c.config);
  for (std::size_t cut = 1; cut < c.input.size(); ++cut) {
    EXPECT_EQ(chunk_pieces(split_at(c.input, {cut}), c.config), whole) << "split at byte " << cut;
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < c.input.size(); ++i) bytes.push_back(c.input.substr(i, 1));
  EXPECT_EQ(chunk_pieces(bytes, c.config), whole) << "byte by byte";
}

TEST_P(chunker_table, streaming_equals_batch_at_random_splits) {
  const chunk_case& c = GetParam();
  const segments whole = chunk_whole(c.input, c.config);
  std::mt19937 rng(12345);
  for (int trial = 0; trial < 50 && c.input.size() > 1; ++trial) {
    std::uniform_int_distribution<std::size_t> offset(1, c.input.size() - 1);
    std::vector<std::size_t> cuts(1 + trial % 8);
    for (std::size_t& cut : cuts) cut = offset(rng);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    EXPECT_EQ(chunk_pieces(split_at(c.input, cuts), c.config), whole) << "trial " << trial;
  }
}

TEST_P(chunker_table, segments_are_speakable_and_bounded) {
  const chunk_case& c = GetParam();
  for (const std::string& segment : chunk_whole(c.input, c.config)) {
    EXPECT_FALSE(segment.empty());
    EXPECT_LE(segment.size(), c.config.max_segment_chars) << segment;
    EXPECT_TRUE(is_valid_utf8(segment)) << segment;
    EXPECT_NE(segment.front(), ' ') << segment;
    EXPECT_NE(segment.back(), ' ') << segment;
    EXPECT_EQ(segment.find('\n'), std::string::npos) << segment;
    EXPECT_TRUE(std::any_of(segment.begin(), segment.end(),
                            [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || (ch & 0x80); }))
        << segment;
  }
}

INSTANTIATE_TEST_SUITE_P(cases, chunker_table, testing::ValuesIn(chunk_cases()),
                         [](const testing::TestParamInfo<chunk_case>& test) { return std::string(test.param.name); });

TEST(sentence_chunker, random_replies_stream_like_batch) {
  // Texts stitched from fragments that stress every rule, fed in random 1-6 byte tokens.
  constexpr std::string_view k_fragments[] = {
      "Hello", " world", ".", " ", "\n", "\n\n", "**", "*", "_", "~~", "`", "```", "# ", "- ", "1. ", "> ",
      "| a | b |", "|---|", "[x](y)", "![i](j)", "Dr.", " Smith", "3.14", "5:30", ",", ";", " - ", "\u2014",
      "...", "\u2026", "!", "?", "\"", ")", "\u00E9", "\u4F60\u3002", "\U0001F600", "\xFF", "\xE2\x82", "e.g.",
      " the", " The", "a.b@c.de", "https://x.org/a?b=c", "snake_case", "2*3", "No.", " 5", "J.", "etc.",
      "averyveryverylongwordwithoutanyspace"};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text;
    for (std::size_t i = rng() % 30; i > 0; --i) text += k_fragments[rng() % std::size(k_fragments)];
    const chunker_config config{.eager_first = rng() % 2 == 0,
                                .eager_min_words = rng() % 5,
                                .max_segment_chars = 4 + rng() % 60,
                                .min_segment_chars = rng() % 8};
    std::vector<std::string_view> tokens;
    for (std::size_t pos = 0; pos < text.size(); pos += tokens.back().size()) {
      tokens.push_back(std::string_view(text).substr(pos, 1 + rng() % 6));
    }
    const segments whole = chunk_whole(text, config);
    ASSERT_EQ(chunk_pieces(tokens, config), whole) << text;
    for (const std::string& segment : whole) {
      ASSERT_LE(segment.size(), config.max_segment_chars) << text;
      ASSERT_TRUE(is_valid_utf8(segment)) << text;
    }
  }
}

TEST(sentence_chunker, table_has_at_least_sixty_cases) { EXPECT_GE(chunk_cases().size(), 60u); }

TEST(sentence_chunker, cuts_at_the_earliest_safe_moment) {
  sentence_chunker chunker(k_sentences);
  EXPECT_TRUE(chunker.push("Hello there!").empty());  // a closing quote could still follow
  EXPECT_EQ(chunker.push(" "), segments{"Hello there!"});
  EXPECT_TRUE(chunker.push("Pi is 3.").empty());  // a decimal?
  EXPECT_TRUE(chunker.push("14 exactly.").empty());
  EXPECT_TRUE(chunker.push(" ").empty());  // an abbreviation, or a lower-case word next?
  EXPECT_EQ(chunker.push("The"), segments{"Pi is 3.14 exactly."});
  EXPECT_EQ(chunker.flush(), segments{"The"});
}

TEST(sentence_chunker, bpe_tokens) {
  const std::vector<std::string_view> tokens = {"Hello", ",", " world", ".", " The", " value", " is", " 3",
                                                ".", "14", ".", " Dr", ".", " Smith", " agrees", "!"};
  EXPECT_EQ(chunk_pieces(tokens, k_sentences),
            (segments{"Hello, world.", "The value is 3.14.", "Dr. Smith agrees!"}));
}

TEST(sentence_chunker, code_points_split_across_tokens) {
  const std::string text = "Caf\u00E9 \U0001F600 ok. \u4F60\u597D\u3002";
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < text.size(); ++i) bytes.push_back(std::string_view(text).substr(i, 1));
  EXPECT_EQ(chunk_pieces(bytes, k_sentences), (segments{"Caf\u00E9 \U0001F600 ok.", "\u4F60\u597D\u3002"}));
}

TEST(sentence_chunker, markdown_split_across_tokens) {
  EXPECT_EQ(chunk_pieces({"**", "bo", "ld**", " and", " `co", "de`", "."}, k_sentences), segments{"bold and code."});
}

TEST(sentence_chunker, only_the_first_segment_is_eager) {
  sentence_chunker chunker;
  EXPECT_EQ(chunker.push("Well, I think that this is fine, "), segments{"Well, I think that this is fine,"});
  EXPECT_EQ(chunker.n_segments(), 1u);
  EXPECT_TRUE(chunker.push("and then, after that, we go on, and on, and on, ").empty());
  EXPECT_EQ(chunker.push("forever. Next"), segments{"and then, after that, we go on, and on, and on, forever."});
  EXPECT_EQ(chunker.flush(), segments{"Next"});
  EXPECT_EQ(chunker.n_segments(), 3u);
}

TEST(sentence_chunker, eager_waits_for_enough_words) {
  sentence_chunker chunker;
  EXPECT_TRUE(chunker.push("Sure, ").empty());
  EXPECT_TRUE(chunker.push("so, ").empty());
  EXPECT_EQ(chunker.push("here we go, now"), segments{"Sure, so, here we go,"});
}

TEST(sentence_chunker, long_reply_never_exceeds_the_cap) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "word, another word and more words without any end ";
  const chunker_config config{.max_segment_chars = 64};
  const segments out = chunk_whole(text, config);
  ASSERT_GT(out.size(), 10u);
  for (const std::string& segment : out) EXPECT_LE(segment.size(), 64u) << segment;
}

TEST(sentence_chunker, reset_forgets_the_reply) {
  sentence_chunker chunker;
  EXPECT_EQ(chunker.push("One, two, three, four, five, "), segments{"One, two, three, four,"});
  EXPECT_TRUE(chunker.push("half a sentence **bo").empty());
  chunker.reset();
  EXPECT_EQ(chunker.n_segments(), 0u);
  EXPECT_EQ(chunker.push("ld** Again, one two three, go"), segments{"ld Again, one two three,"});
  EXPECT_EQ(chunker.flush(), segments{"go"});
}

TEST(sentence_chunker, flush_empties_the_chunker) {
  sentence_chunker chunker(k_sentences);
  EXPECT_TRUE(chunker.push("No end in sight").empty());
  EXPECT_EQ(chunker.flush(), segments{"No end in sight"});
  EXPECT_TRUE(chunker.flush().empty());
  EXPECT_EQ(chunker.n_segments(), 1u);
}

}  // namespace
}  // namespace parley::text
