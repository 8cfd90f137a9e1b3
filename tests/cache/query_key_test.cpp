#include <gtest/gtest.h>

#include "parley/cache/query_key.hpp"

namespace parley::cache {
namespace {

struct key_case {
  const char* in;
  const char* want;
};

TEST(query_key, table) {
  const key_case cases[] = {
      // case, punctuation, whitespace
      {"What time do you OPEN?", "what time do you open"},
      {"  what   time do you open  ", "what time do you open"},
      {"What's your return policy?!", "what is your return policy"},
      {"Where’s my order", "where is my order"},
      {"France's capital", "france capital"},
      // fillers
      {"Um, what time do you open, please?", "what time do you open"},
      {"uh so like when do you close", "when do you close"},
      {"Hey, so, where is the store?", "where is the store"},
      {"Well okay, how do I reset my password", "how do i reset my password"},
      {"it's, like, open on sunday?", "it is open on sunday"},
      {"do you like cats", "do you like cats"},
      {"say hello in french", "say hello in french"},
      {"can you tell me when you open", "when you open"},
      {"could you please tell me how to return an item", "how to return an item"},
      {"tell me a joke", "tell me a joke"},
      // numbers
      {"five", "5"},
      {"I want five apples", "i want 5 apples"},
      {"twenty one", "21"},
      {"a hundred and five", "105"},
      {"one thousand two hundred thirty four", "1234"},
      {"twelve hundred", "1200"},
      {"1,000 items", "1000 items"},
      {"one point five", "1.5"},
      {"the fifth of may", "the 5th of may"},
      {"twenty first", "21st"},
      {"the 21st", "the 21st"},
      {"add two and three", "add 2 and 3"},
      // times
      {"5 pm", "17:00"},
      {"5pm", "17:00"},
      {"5 p.m.", "17:00"},
      {"five p.m.", "17:00"},
      {"Five PM", "17:00"},
      {"17:00", "17:00"},
      {"9:05", "09:05"},
      {"5:30 pm", "17:30"},
      {"five thirty pm", "17:30"},
      {"five o'clock in the evening", "17:00"},
      {"5 o'clock", "05:00"},
      {"9 in the morning", "09:00"},
      {"12 am", "00:00"},
      {"12 pm", "12:00"},
      {"noon", "12:00"},
      {"midnight", "00:00"},
      {"half past five pm", "17:30"},
      {"quarter to nine a.m.", "08:45"},
      {"are you open at five p.m. on sunday", "are you open at 17:00 on sunday"},
      {"is the store open until 9 pm", "is the store open until 21:00"},
      // symbols
      {"what is 5 + 3", "what is 5 plus 3"},
      {"what is 5 - 3", "what is 5 minus 3"},
      {"what is five minus three", "what is 5 minus 3"},
      {"what's 6/2", "what is 6 divided by 2"},
      {"20% off", "20 percent off"},
      {"a well-known shop", "a well known shop"},
      {"h&m", "h and m"},
      // nothing left
      {"", ""},
      {"um, uh... please?", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_query(c.in), c.want) << "input: \"" << c.in << "\"";
}

TEST(query_key, spellings_of_one_query_share_a_key) {
  const std::string k = normalize_query("are you open at 5 pm");
  EXPECT_EQ(normalize_query("Um, are you open at five p.m.?"), k);
  EXPECT_EQ(normalize_query("are you open at 17:00"), k);
  EXPECT_EQ(normalize_query("ARE YOU OPEN AT 5PM, PLEASE"), k);
  EXPECT_NE(normalize_query("are you open at 6 pm"), k);
  EXPECT_NE(normalize_query("are you open at 5 am"), k);
}

TEST(query_key, numeric_words) {
  EXPECT_EQ(numeric_words("are you open at 17:00 on the 5th"), (std::vector<std::string>{"17:00", "5"}));
  EXPECT_TRUE(numeric_words("what are your hours").empty());
}

}  // namespace
}  // namespace parley::cache
