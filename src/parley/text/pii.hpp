// text/pii — finds personal data in transcripts and redacts it (issue 6, item 4).
//
// Role: a turn whose transcript holds PII is never cached, is kept on local responders when the
// privacy policy says so (routing/policy), and is redacted before it reaches logs and traces
// (DESIGN §7). Input is ASR output — spoken words, numbers spelled out, lower case, no
// punctuation — or typed text; both are read:
//   phone          "555-123-4567", "(555) 123-4567", "+44 20 7946 0958", "5551234567",
//                  "five five five one two three four five six seven", "eight hundred five five
//                  five one two one two", "double five"; 7–9 digits only with a phone cue nearby
//                  ("call", "phone", "my number"...), and never after "order", "tracking"...
//   email          "john.smith@example.com", "john dot smith at gmail dot com"
//   card           13–19 digits, Luhn-valid, first digit 2–6 (Visa, Mastercard, Amex, Discover,
//                  JCB, Diners, UnionPay), typed or spoken, any grouping
//   iban           "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", spelled letter by
//                  letter too; the length must match the country and the mod-97 check must pass
//   ssn            "123-45-6789" (valid area/group/serial); 9 digits after "social security"/"ssn"
//   account        digits after "account", "passport", "licence", "routing", "pin", "cvv"...
//   address        "221 Baker Street", "12 Main St Apt 4", "one two three main street",
//                  "1600 Pennsylvania Avenue NW, Washington, DC 20500", "P.O. Box 42"
//   date_of_birth  a date after "born", "birthday", "date of birth", "dob": "03/15/1990",
//                  "March 15, 1990", "the fifteenth of march nineteen ninety"
// Precision over recall for ordinary talk: "return 2 items", "the year 2024", "open at 9", an
// order number that is not Luhn-valid and a counted "one two three ... ten" are not PII.
// Threading: pure functions. Units: byte offsets into the input; spans begin and end on token
// boundaries, so they never split a UTF-8 sequence. Any bytes (invalid UTF-8 too) are safe.
//
//   if (text::contains_pii(transcript)) { /* no cache, local only */ }
//   log.debug("user: {}", text::redact_pii(transcript));  // "call me at [phone]"
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace parley::text {

enum class pii_kind { phone, email, card, iban, ssn, account, address, date_of_birth };

/// "phone", "email", "card", "iban", "ssn", "account", "address", "dob": the name in redaction
/// tags ("[phone]") and in traces.
std::string_view to_string(pii_kind kind);

struct pii_span {
  pii_kind kind = pii_kind::phone;
  std::size_t begin = 0;  // byte offset of the first byte
  std::size_t end = 0;    // one past the last byte
  friend bool operator==(const pii_span&, const pii_span&) = default;
};

/// All PII spans in `text`, ordered by begin, never overlapping, each non-empty.
std::vector<pii_span> find_pii(std::string_view text);

/// True when find_pii(text) would find anything.
bool contains_pii(std::string_view text);

/// `text` with each PII span replaced by "[kind]", e.g. "call [phone] or mail [email]".
std::string redact_pii(std::string_view text);
/// The same with spans already found (ordered, non-overlapping, in bounds; others are skipped).
std::string redact_pii(std::string_view text, std::span<const pii_span> spans);

/// The Luhn (mod 10) check over a string of ASCII digits; false when empty or not all digits.
bool luhn_valid(std::string_view digits);
/// The IBAN check: letters and digits only (either case, no spaces), the country's length, and
/// mod 97 == 1.
bool iban_valid(std::string_view iban);

}  // namespace parley::text
