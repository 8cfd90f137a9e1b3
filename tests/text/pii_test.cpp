#include "parley/text/pii.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>
#include <string_view>

namespace parley::text {
namespace {

// Each row: the input and its redaction (which shows both the kind and the exact span).
struct pii_case {
  const char* name;
  std::string_view input;
  std::string_view redacted;
};

void PrintTo(const pii_case& c, std::ostream* os) { *os << c.name; }

class pii_table : public ::testing::TestWithParam<pii_case> {};

TEST_P(pii_table, redacts_as_expected) {
  const pii_case& c = GetParam();
  EXPECT_EQ(redact_pii(c.input), c.redacted) << "input: " << c.input;
  EXPECT_EQ(contains_pii(c.input), c.input != c.redacted) << "input: " << c.input;
}

// clang-format off
const pii_case k_positive[] = {
    // Phones, typed.
    {"phone_dashes", "call me at 555-123-4567 please", "call me at [phone] please"},
    {"phone_parens", "My number is (555) 123-4567.", "My number is [phone]."},
    {"phone_dots", "reach 555.123.4567", "reach [phone]"},
    {"phone_bare_ten", "it is 5551234567", "it is [phone]"},
    {"phone_us_country", "1-800-555-0199 is the line", "[phone] is the line"},
    {"phone_plus_us", "+1 (555) 123-4567", "[phone]"},
    {"phone_plus_uk", "ring +44 20 7946 0958 tomorrow", "ring [phone] tomorrow"},
    {"phone_plus_de", "+49 30 901820", "[phone]"},
    {"phone_uk_national", "020 7946 0958", "[phone]"},
    {"phone_fr_national", "06 12 34 56 78", "[phone]"},
    {"phone_local_seven", "dial 555-1234 now", "dial [phone] now"},
    {"phone_seven_with_cue", "call me at 555 1234", "call me at [phone]"},
    {"phone_cue_after", "555 1234 is my number", "[phone] is my number"},
    {"phone_eight_with_cue", "my cell is 0612 3456", "my cell is [phone]"},
    {"phone_sentence_end", "Call 555-1234. Thanks", "Call [phone]. Thanks"},
    {"phone_two_numbers", "555-123-4567 or 555-765-4321", "[phone] or [phone]"},
    {"phone_after_small_number", "I have 2 555-123-4567", "I have 2 [phone]"},
    // Phones, spoken.
    {"phone_spoken_ten", "my number is five five five one two three four five six seven",
     "my number is [phone]"},
    {"phone_spoken_no_cue", "five five five one two three four five six seven", "[phone]"},
    {"phone_spoken_seven_cue", "call me at five five five one two three four", "call me at [phone]"},
    {"phone_spoken_oh", "my phone is five five five oh one two three four five six", "my phone is [phone]"},
    {"phone_spoken_double", "call five double five one two three four five six seven", "call [phone]"},
    {"phone_spoken_triple", "text me at triple five one two three four", "text me at [phone]"},
    {"phone_spoken_tens", "my number is five five five twelve thirty four", "my number is [phone]"},
    {"phone_spoken_hundred", "call one eight hundred five five five one two one two", "call [phone]"},
    {"phone_spoken_plus", "plus four four two zero seven nine four six zero nine five eight", "[phone]"},
    {"phone_spoken_commas", "my number is five five five, one two three, four five six seven", "my number is [phone]"},
    {"phone_mixed", "my number is 555 one two three 4567", "my number is [phone]"},
    {"phone_capitals", "Call Me At Five Five Five One Two Three Four", "Call Me At [phone]"},
    // E-mail.
    {"email_typed", "write to john.smith@example.com today", "write to [email] today"},
    {"email_typed_plus", "a.b+tag99@mail.co.uk", "[email]"},
    {"email_typed_trailing_dot", "mail me at jo@x.com.", "mail me at [email]."},
    {"email_spoken", "it's john dot smith at gmail dot com", "it's [email]"},
    {"email_spoken_simple", "john at gmail dot com", "[email]"},
    {"email_spoken_underscore", "jane underscore doe at yahoo dot co dot uk thanks", "[email] thanks"},
    {"email_spoken_digits", "send it to john one two three at gmail dot com", "send it to [email]"},
    {"email_spoken_cue", "my email is me at example dot org", "my email is [email]"},
    {"email_spoken_two_word_name", "my email is john smith at gmail dot com", "my email is [email]"},
    {"email_half_typed", "john at gmail.com", "[email]"},
    {"email_spoken_at_sign", "john @ example dot com", "[email]"},
    {"email_spoken_dash", "mary dash ann at company dot io", "[email]"},
    // Cards.
    {"card_visa_typed", "my card is 4111 1111 1111 1111", "my card is [card]"},
    {"card_visa_dashes", "4111-1111-1111-1111 exp 12/25", "[card] exp 12/25"},
    {"card_visa_bare", "4111111111111111", "[card]"},
    {"card_amex", "3782 822463 10005", "[card]"},
    {"card_mastercard", "5555555555554444", "[card]"},
    {"card_discover", "6011 1111 1111 1117", "[card]"},
    {"card_visa13", "4222222222222", "[card]"},
    {"card_spoken", "four one one one one one one one one one one one one one one one", "[card]"},
    {"card_spoken_groups", "card number four one one one, one one one one, one one one one, one one one one",
     "card number [card]"},
    {"card_spoken_double", "five five five five five five five five five five five five double four four four",
     "[card]"},
    {"card_luhn_order_number", "order 4111111111111111", "order [card]"},
    // IBANs.
    {"iban_gb_spaced", "my IBAN is GB82 WEST 1234 5698 7654 32.", "my IBAN is [iban]."},
    {"iban_de_compact", "DE89370400440532013000", "[iban]"},
    {"iban_de_spaced_lower", "de89 3704 0044 0532 0130 00", "[iban]"},
    {"iban_fr", "FR14 2004 1010 0505 0001 3M02 606", "[iban]"},
    {"iban_no", "NO93 8601 1117 947", "[iban]"},
    {"iban_spoken", "g b eight two w e s t one two three four five six nine eight seven six five four three two",
     "[iban]"},
    // SSNs, accounts.
    {"ssn_typed", "SSN 123-45-6789", "SSN [ssn]"},
    {"ssn_typed_no_cue", "it's 078-05-1120", "it's [ssn]"},
    {"ssn_spoken", "my social security number is one two three four five six seven eight nine",
     "my social security number is [ssn]"},
    {"ssn_spaces_cue", "ssn 123 45 6789", "ssn [ssn]"},
    {"account_number", "my account number is 12345678", "my account number is [account]"},
    {"account_passport", "passport number 502135326", "passport number [account]"},
    {"account_pin", "my pin is 4821", "my pin is [account]"},
    {"account_pin_spoken", "the pin is four eight two one", "the pin is [account]"},
    {"account_cvv", "cvv 123", "cvv [account]"},
    {"account_security_code", "the security code is 737", "the security code is [account]"},
    {"account_routing", "routing number 021000021", "routing number [account]"},
    // Addresses.
    {"address_baker", "I live at 221 Baker Street.", "I live at [address]."},
    {"address_221b", "221b Baker Street", "[address]"},
    {"address_apt", "send it to 12 Main St Apt 4 please", "send it to [address] please"},
    {"address_abbrev_dot", "12 Main St. Apt. 4B", "[address]"},
    {"address_suite", "1 Infinite Loop, Suite 200", "[address]"},
    {"address_spoken", "one two three main street", "[address]"},
    {"address_spoken_cardinal", "i live at twenty two elm road", "i live at [address]"},
    {"address_spoken_hundreds", "one hundred twenty three maple avenue", "[address]"},
    {"address_spoken_unit", "four five oak lane apartment six", "[address]"},
    {"address_direction_city_zip", "1600 Pennsylvania Avenue NW, Washington, DC 20500",
     "[address]"},
    {"address_city_zip", "742 Evergreen Terrace, Springfield, IL 62704-1234", "[address]"},
    {"address_three_words", "10 Old Mill Creek Road", "[address]"},
    {"address_ordinal", "350 5th Avenue", "[address]"},
    {"address_hash_unit", "12 Elm Street #5", "[address]"},
    {"address_spoken_long", "i live at one two three four five six seven main street", "i live at [address]"},
    {"address_downing", "he lives at 10 downing street", "he lives at [address]"},
    {"address_po_box", "P.O. Box 42", "[address]"},
    {"address_po_box_spoken", "p o box four two", "[address]"},
    {"address_post_office", "post office box 1234", "[address]"},
    // Dates of birth.
    {"dob_numeric", "I was born on 03/15/1990", "I was born on [dob]"},
    {"dob_iso", "date of birth: 1990-03-15", "date of birth: [dob]"},
    {"dob_month_first", "my birthday is March 15, 1990.", "my birthday is [dob]."},
    {"dob_day_first", "born on the 15th of March 1990", "born on the [dob]"},
    {"dob_spoken", "my date of birth is march fifteenth nineteen ninety",
     "my date of birth is [dob]"},
    {"dob_spoken_day_first", "i was born the twenty first of june nineteen eighty five",
     "i was born the [dob]"},
    {"dob_spoken_two_thousand", "born on may fifth two thousand and five", "born on [dob]"},
    {"dob_no_year", "my birthday is june 3rd", "my birthday is [dob]"},
    {"dob_dob", "DOB 15.03.1990", "DOB [dob]"},
    // Several kinds in one turn.
    {"mixed", "I'm at 12 Main St, call 555-123-4567 or mail a@b.com",
     "I'm at [address], call [phone] or mail [email]"},
    {"mixed_spoken",
     "my card is four one one one one one one one one one one one one one one one and my email is bob at aol dot com",
     "my card is [card] and my email is [email]"},
};

const pii_case k_negative[] = {
    {"empty", "", ""},
    {"plain", "what's the weather like", "what's the weather like"},
    {"return_items", "I want to return 2 items", "I want to return 2 items"},
    {"year", "the year 2024", "the year 2024"},
    {"open_at", "are you open at 9", "are you open at 9"},
    {"open_at_spoken", "are you open at nine thirty", "are you open at nine thirty"},
    {"time_range", "we are open from 9 to 5", "we are open from 9 to 5"},
    {"order_number", "my order number is 12345678", "my order number is 12345678"},
    {"order_number_ten", "my order number is 5551234567", "my order number is 5551234567"},
    {"order_number_spoken", "order number one two three four five six seven eight",
     "order number one two three four five six seven eight"},
    {"order_sixteen_not_luhn", "order 4111111111111112", "order 4111111111111112"},
    {"long_not_luhn", "1234 5678 9012 3456", "1234 5678 9012 3456"},
    {"tracking", "tracking 1Z999AA10123456784", "tracking 1Z999AA10123456784"},
    {"money", "it costs $1,234,567", "it costs $1,234,567"},
    {"thousands", "about 1,234 people", "about 1,234 people"},
    {"decimal", "pi is 3.14159", "pi is 3.14159"},
    {"version", "version 1.2.3", "version 1.2.3"},
    {"ip", "server 192.168.10.100", "server 192.168.10.100"},
    {"date_no_cue", "the meeting is on 2024-03-15", "the meeting is on 2024-03-15"},
    {"date_slash", "due 03/15/2024", "due 03/15/2024"},
    {"counting", "one two three four five six seven eight nine ten", "one two three four five six seven eight nine ten"},
    {"counting_eleven", "one two three four five six seven eight nine ten eleven",
     "one two three four five six seven eight nine ten eleven"},
    {"arithmetic", "what is twenty five times four", "what is twenty five times four"},
    {"seven_digits_no_cue", "five five five one two three four", "five five five one two three four"},
    {"timer", "set a timer for 10 minutes", "set a timer for 10 minutes"},
    {"temperature", "set it to 72 degrees", "set it to 72 degrees"},
    {"look_at_website", "look at google dot com", "look at google dot com"},
    {"meet_at", "meet me at noon", "meet me at noon"},
    {"at_home", "I'm at home dot", "I'm at home dot"},
    {"at_sign_alone", "@ the office", "@ the office"},
    {"at_no_tld", "john at gmail", "john at gmail"},
    {"walk_blocks", "walk 2 blocks down the road", "walk 2 blocks down the road"},
    {"minute_drive", "it's a 10 minute drive", "it's a 10 minute drive"},
    {"mile_walk", "a 3 mile trail", "a 3 mile trail"},
    {"two_way_street", "it's a 2 way street", "it's a 2 way street"},
    {"place_ordinal", "I came in 2nd place", "I came in 2nd place"},
    {"the_one_main_street", "the one main street in town", "the one main street in town"},
    {"street_no_number", "I live on Baker Street", "I live on Baker Street"},
    {"cars_road", "3 cars on the road", "3 cars on the road"},
    {"born_year_only", "I was born in 1990", "I was born in 1990"},
    {"birthday_no_date", "it's my birthday today", "it's my birthday today"},
    {"iban_bad_checksum", "GB83 WEST 1234 5698 7654 32", "GB83 WEST 1234 5698 7654 32"},
    {"iban_bad_length", "GB82 WEST 1234 5698 7654", "GB82 WEST 1234 5698 7654"},
    {"ssn_invalid_area", "000-12-3456", "000-12-3456"},
    {"ssn_666", "666-12-3456", "666-12-3456"},
    {"account_small_amount", "my account has 300 dollars", "my account has 300 dollars"},
    {"pin_short", "pin 12", "pin 12"},
    {"model_number", "model 55512345", "model 55512345"},
    {"room", "room 1204", "room 1204"},
    {"plus_math", "two plus two", "two plus two"},
    {"plus_typed_math", "5 + 5551234", "5 + 5551234"},
    {"score", "the score was 3 2", "the score was 3 2"},
    {"unicode", "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 5 \xe2\x82\xac", "caf\xc3\xa9 na\xc3\xafve \xe2\x80\x94 5 \xe2\x82\xac"},
    {"mp3", "an MP3 of 128 kbps", "an MP3 of 128 kbps"},
    {"tickets_show", "I need 2 tickets for the 5 pm show", "I need 2 tickets for the 5 pm show"},
    {"zip_alone", "my zip code is 90210", "my zip code is 90210"},
    {"short_number_cue", "my number is 42", "my number is 42"},
    {"call_911", "call 911", "call 911"},
    {"big_amount_cue", "call me tomorrow about the 2024 budget of 1500000",
     "call me tomorrow about the 2024 budget of 1500000"},
    {"math_big", "what is 1234567 times 89", "what is 1234567 times 89"},
    {"alarm_call", "set an alarm for six thirty and call mom", "set an alarm for six thirty and call mom"},
    {"hundreds_dollars", "I want five hundred and fifty five dollars", "I want five hundred and fifty five dollars"},
    {"table_for_two_at_seven", "a table for two at seven", "a table for two at seven"},
    {"ordinal_street_no_number", "Turn left at 5th street", "Turn left at 5th street"},
    {"miles_down_street", "go 2 miles down main street", "go 2 miles down main street"},
    {"lane_highway", "a 4 lane highway", "a 4 lane highway"},
    {"counting_typed", "1 2 3 4 5 6 7 8 9 10 11 12", "1 2 3 4 5 6 7 8 9 10 11 12"},
    {"ticket_ten", "ticket 1234567890", "ticket 1234567890"},
    {"born_in_month", "I was born in march", "I was born in march"},
    {"recipe", "add 2 cups of flour and 3 eggs", "add 2 cups of flour and 3 eggs"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(positive, pii_table, ::testing::ValuesIn(k_positive),
                         [](const auto& row) { return std::string(row.param.name); });
INSTANTIATE_TEST_SUITE_P(negative, pii_table, ::testing::ValuesIn(k_negative),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(pii, spans_and_kinds) {
  const std::string_view text = "call 555-123-4567 or mail a@b.com";
  const auto spans = find_pii(text);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0], (pii_span{pii_kind::phone, 5, 17}));
  EXPECT_EQ(spans[1], (pii_span{pii_kind::email, 26, 33}));
  EXPECT_EQ(text.substr(spans[0].begin, spans[0].end - spans[0].begin), "555-123-4567");
}

TEST(pii, kinds_by_name) {
  struct row {
    std::string_view text;
    pii_kind kind;
  };
  const row rows[] = {
      {"5551234567", pii_kind::phone},          {"a@b.com", pii_kind::email},
      {"4111111111111111", pii_kind::card},     {"DE89370400440532013000", pii_kind::iban},
      {"123-45-6789", pii_kind::ssn},           {"pin 4821", pii_kind::account},
      {"221 Baker Street", pii_kind::address},  {"born on 03/15/1990", pii_kind::date_of_birth},
  };
  for (const row& r : rows) {
    const auto spans = find_pii(r.text);
    ASSERT_EQ(spans.size(), 1u) << r.text;
    EXPECT_EQ(spans[0].kind, r.kind) << r.text;
  }
}

TEST(pii, to_string_names) {
  EXPECT_EQ(to_string(pii_kind::phone), "phone");
  EXPECT_EQ(to_string(pii_kind::email), "email");
  EXPECT_EQ(to_string(pii_kind::card), "card");
  EXPECT_EQ(to_string(pii_kind::iban), "iban");
  EXPECT_EQ(to_string(pii_kind::ssn), "ssn");
  EXPECT_EQ(to_string(pii_kind::account), "account");
  EXPECT_EQ(to_string(pii_kind::address), "address");
  EXPECT_EQ(to_string(pii_kind::date_of_birth), "dob");
}

TEST(pii, luhn) {
  EXPECT_TRUE(luhn_valid("4111111111111111"));
  EXPECT_TRUE(luhn_valid("378282246310005"));
  EXPECT_TRUE(luhn_valid("79927398713"));
  EXPECT_TRUE(luhn_valid("0"));
  EXPECT_FALSE(luhn_valid("4111111111111112"));
  EXPECT_FALSE(luhn_valid("79927398710"));
  EXPECT_FALSE(luhn_valid(""));
  EXPECT_FALSE(luhn_valid("4111 1111"));
}

TEST(pii, iban) {
  EXPECT_TRUE(iban_valid("GB82WEST12345698765432"));
  EXPECT_TRUE(iban_valid("gb82west12345698765432"));
  EXPECT_TRUE(iban_valid("DE89370400440532013000"));
  EXPECT_TRUE(iban_valid("NL91ABNA0417164300"));
  EXPECT_TRUE(iban_valid("CH9300762011623852957"));
  EXPECT_FALSE(iban_valid("GB82WEST12345698765431"));   // checksum
  EXPECT_FALSE(iban_valid("GB82WEST1234569876543"));    // length for GB
  EXPECT_FALSE(iban_valid("XX82WEST12345698765432"));   // no such country
  EXPECT_FALSE(iban_valid("GB82 WEST12345698765432"));  // spaces are the caller's job
  EXPECT_FALSE(iban_valid(""));
}

TEST(pii, redact_with_given_spans_skips_bad_ones) {
  const std::string_view text = "abc def ghi";
  const pii_span spans[] = {{pii_kind::phone, 4, 7}, {pii_kind::email, 5, 9}, {pii_kind::card, 9, 99}};
  EXPECT_EQ(redact_pii(text, spans), "abc [phone] ghi");
}

// Properties over random inputs built from the pieces PII is made of: never crash, spans in
// bounds, ordered, non-overlapping, never inside a UTF-8 sequence; redaction is the same with
// or without the spans given, and leaves exactly the digits outside the spans.
TEST(pii, randomized_properties) {
  const std::string_view pieces[] = {
      "one", "two", "five", "oh", "double", "hundred", "twenty", "dot", "at", "com", "gmail", "street", "main",
      "apt", "4", "555", "-", "(", ")", "+", "1234", "4111", "@", ".", ",", "GB82", "WEST", "born", "on",
      "march", "15th", "1990", "/", "my", "number", "is", "call", "pin", "card", "\xc3\xa9", "\xe2\x82\xac", "x",
      "P.O.", "box", "ssn", "account", "9", "0", "1", "plus", "#", "Baker", "St", "_", "underscore",
  };
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
  std::uniform_int_distribution<int> len(0, 40), space(0, 3);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = len(rng);
    for (int i = 0; i < n; ++i) {
      text += pieces[pick(rng)];
      if (space(rng) != 0) text += ' ';
    }
    const auto spans = find_pii(text);
    std::size_t prev_end = 0;
    for (const pii_span& s : spans) {
      ASSERT_LT(s.begin, s.end) << text;
      ASSERT_LE(s.end, text.size()) << text;
      ASSERT_GE(s.begin, prev_end) << text;
      const auto continuation = [&](std::size_t i) {
        return i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
      };
      ASSERT_FALSE(continuation(s.begin)) << text;
      ASSERT_FALSE(continuation(s.end)) << text;
      prev_end = s.end;
    }
    const std::string redacted = redact_pii(text, spans);
    EXPECT_EQ(redacted, redact_pii(text));
    // Every digit left is a digit outside the spans.
    std::size_t digits_outside = 0;
    for (std::size_t i = 0, k = 0; i < text.size(); ++i) {
      while (k < spans.size() && spans[k].end <= i) ++k;
      const bool inside = k < spans.size() && spans[k].begin <= i;
      if (!inside && text[i] >= '0' && text[i] <= '9') ++digits_outside;
    }
    std::size_t digits_left = 0;
    for (char c : redacted) digits_left += (c >= '0' && c <= '9') ? 1 : 0;
    EXPECT_EQ(digits_left, digits_outside) << text;
  }
}

TEST(pii, random_bytes_never_crash) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 200), kind(0, 3);
  const std::string_view common = "0123456789 @.-+()#,/abcoe";
  for (int round = 0; round < 1000; ++round) {
    std::string text;
    const int n = len(rng);
    for (int i = 0; i < n; ++i) {
      text += kind(rng) == 0 ? static_cast<char>(byte(rng)) : common[static_cast<std::size_t>(byte(rng)) % common.size()];
    }
    const auto spans = find_pii(text);
    std::size_t prev_end = 0;
    for (const pii_span& s : spans) {
      ASSERT_LT(s.begin, s.end);
      ASSERT_LE(s.end, text.size());
      ASSERT_GE(s.begin, prev_end);
      prev_end = s.end;
    }
    (void)redact_pii(text);
  }
}

TEST(pii, long_inputs_stay_fast_and_safe) {
  std::string digits(100000, '7');
  EXPECT_FALSE(contains_pii(digits));
  std::string spoken;
  for (int i = 0; i < 5000; ++i) spoken += "five ";
  (void)find_pii(spoken);
  std::string ats;
  for (int i = 0; i < 5000; ++i) ats += "a@b.c @ ";
  (void)find_pii(ats);
  SUCCEED();
}

}  // namespace
}  // namespace parley::text
