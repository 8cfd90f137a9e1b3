// net/multipart: the Content-Type's boundary, and multipart/form-data bodies as clients send them
// (undici's FormData, which the npm `openai` package uses on Node), their edge cases and errors.
#include "parley/net/multipart.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace parley::net {
namespace {

using namespace std::string_literals;

constexpr std::string_view k_boundary = "----formdata-undici-0123456789";
const std::string k_content_type = "multipart/form-data; boundary="s + std::string(k_boundary);

// A WAV header and samples with the bytes that trip naive parsers: NUL, CR, LF, "--", CRLF "--",
// and lookalikes of the delimiter that are not one (a prefix of the boundary; the boundary followed
// by another character; the boundary not preceded by CRLF; preceded by a bare LF).
std::string audio_bytes() {
  std::string wav = "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\x3e\x00\x00"s;
  wav += "\x00\x7d\x00\x00\x02\x00\x10\x00data\x00\x01\x00\x00"s;
  wav += "\r\n--\r\n\r\n--\x00\r\r\n\n--"s;
  wav += "\r\n--" + std::string(k_boundary.substr(0, k_boundary.size() - 1)) + "\r\n";
  wav += "\r\n--" + std::string(k_boundary) + "X\r\n";
  wav += "\r\n--" + std::string(k_boundary) + " x\r\n";
  wav += "x--" + std::string(k_boundary) + "\r\n";
  wav += "\n--" + std::string(k_boundary) + "--\r\n";
  for (int i = 0; i < 256; ++i) wav += static_cast<char>(i);
  wav += "\r\n\r\n";  // data may end in CRLF too
  return wav;
}

// A body in undici's shape (lib/web/fetch/body.js): each part is "--boundary\r\n" + headers +
// "\r\n\r\n" + bytes + "\r\n", then "--boundary--\r\n".
struct field {
  std::string name;
  std::string value;
  std::string filename;  // "" for a text field
  std::string type;
};

std::string undici_body(const std::vector<field>& fields) {
  std::string body;
  for (const auto& f : fields) {
    body += "--" + std::string(k_boundary) + "\r\nContent-Disposition: form-data; name=\"" + f.name + "\"";
    if (!f.filename.empty()) body += "; filename=\"" + f.filename + "\"\r\nContent-Type: " + f.type;
    body += "\r\n\r\n" + f.value + "\r\n";
  }
  return body + "--" + std::string(k_boundary) + "--\r\n";
}

// A minimal body with the given raw part text(s) between delimiters.
std::string body_of(const std::vector<std::string>& raw_parts, std::string_view boundary = k_boundary) {
  std::string body;
  for (const auto& p : raw_parts) body += "--" + std::string(boundary) + "\r\n" + p + "\r\n";
  return body + "--" + std::string(boundary) + "--\r\n";
}

std::string text_part(std::string_view name, std::string_view value) {
  return "Content-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" + std::string(value);
}

bool inside(std::string_view view, std::string_view whole) {
  return view.data() >= whole.data() && view.data() + view.size() <= whole.data() + whole.size();
}

// ---- multipart_boundary ----

TEST(multipart_boundary, reads_the_boundary_quoted_or_not_in_any_parameter_order) {
  EXPECT_EQ(*multipart_boundary(k_content_type), k_boundary);
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(*multipart_boundary("multipart/form-data;boundary=\"q\\\"x\\\\y\""), "q\"x\\y") << "backslash escapes";
  EXPECT_EQ(*multipart_boundary("Multipart/Form-Data ; charset=utf-8; BOUNDARY=xyz"), "xyz");
  EXPECT_EQ(*multipart_boundary("  multipart/form-data;charset=\"a;b\";boundary = abc ; x=y"), "abc");
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=first; boundary=second"), "first");
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'b')), std::string(70, 'b'));
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=------------------------d74496d66958873e"),
            "------------------------d74496d66958873e") << "curl's";
}

TEST(multipart_boundary, says_what_is_wrong) {
  const auto check = [](std::string_view content_type, errc code, std::string_view message) {
    const auto r = multipart_boundary(content_type);
    ASSERT_FALSE(r) << content_type;
    EXPECT_EQ(r.error().code, code) << content_type;
    EXPECT_EQ(r.error().message, message) << content_type;
  };
  check("", errc::unsupported_format, "Content-Type is not multipart/form-data");
  check("application/json", errc::unsupported_format, "Content-Type is not multipart/form-data");
  check("multipart/mixed; boundary=abc", errc::unsupported_format, "Content-Type is not multipart/form-data");
  check("multipart/form-data-x; boundary=abc", errc::unsupported_format, "Content-Type is not multipart/form-data");
  check("multipart/form-data", errc::invalid_argument, "multipart/form-data without a boundary");
  check("multipart/form-data; charset=utf-8; boundaryx=1", errc::invalid_argument,
        "multipart/form-data without a boundary");
  check("multipart/form-data; boundary=", errc::invalid_argument, "the multipart boundary is empty");
  check("multipart/form-data; boundary=\"\"", errc::invalid_argument, "the multipart boundary is empty");
  check("multipart/form-data; boundary=" + std::string(71, 'b'), errc::invalid_argument,
        "the multipart boundary is longer than 70 characters");
  check("multipart/form-data; boundary=\"a\rb\"", errc::invalid_argument,
        "the multipart boundary has a character outside printable ASCII");
  check("multipart/form-data; boundary=\"abc", errc::invalid_argument, "malformed Content-Type parameter");
  check("multipart/form-data; boundary=\"abc\"def", errc::invalid_argument, "malformed Content-Type parameter");
  check("multipart/form-data; =abc", errc::invalid_argument, "malformed Content-Type parameter");
}

// ---- parse_multipart_form ----

TEST(multipart_form, parses_an_openai_transcription_upload_as_undici_sends_it) {
  const std::string audio = audio_bytes();
  const std::string body = undici_body({
      {"file", audio, "speech.wav", "audio/wav"},
      {"model", "whisper-1", "", ""},
      {"language", "en", "", ""},
      {"prompt", "Ann, Bob and\r\nthe -- dashes", "", ""},
      {"response_format", "verbose_json", "", ""},
      {"temperature", "0", "", ""},
      {"timestamp_granularities[]", "word", "", ""},
      {"timestamp_granularities[]", "segment", "", ""},
  });
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 8u);
  const form_part& file = (*parts)[0];
  EXPECT_EQ(file.name, "file");
  EXPECT_EQ(file.filename, "speech.wav");
  EXPECT_EQ(file.content_type, "audio/wav");
  EXPECT_EQ(file.body, audio) << "every byte, lookalikes included";
  EXPECT_TRUE(inside(file.body, body)) << "a view into the request body";
  EXPECT_EQ(find_part(*parts, "model")->body, "whisper-1");
  EXPECT_FALSE(find_part(*parts, "model")->filename.has_value());
  EXPECT_EQ(find_part(*parts, "model")->content_type, "");
  EXPECT_EQ(find_part(*parts, "language")->body, "en");
  EXPECT_EQ(find_part(*parts, "prompt")->body, "Ann, Bob and\r\nthe -- dashes");
  EXPECT_EQ(find_part(*parts, "response_format")->body, "verbose_json");
  EXPECT_EQ(find_part(*parts, "temperature")->body, "0");
  EXPECT_EQ((*parts)[6].name, "timestamp_granularities[]");
  EXPECT_EQ((*parts)[6].body, "word");
  EXPECT_EQ((*parts)[7].body, "segment");
  for (const auto& p : *parts) EXPECT_TRUE(inside(p.body, body)) << p.name;
}

TEST(multipart_form, reads_a_quoted_boundary_and_ignores_preamble_and_epilogue) {
  const std::string body = "This is the preamble.\r\nIt is ignored.\r\n--a'b()+_,-./:=?c\r\n" +
                           text_part("model", "whisper-1") + "\r\n--a'b()+_,-./:=?c--  \r\nThe epilogue, also ignored.\r\n--a'b()+_,-./:=?c\r\n";
  const auto parts = parse_multipart_form("multipart/form-data; boundary=\"a'b()+_,-./:=?c\"", body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "model");
  EXPECT_EQ((*parts)[0].body, "whisper-1");
}

TEST(multipart_form, accepts_transport_padding_after_a_boundary_and_no_final_crlf) {
  const std::string b(k_boundary);
  const std::string body = "--" + b + " \t \r\n" + text_part("a", "1") + "\r\n--" + b + "\t\r\n" + text_part("b", "2") +
                           "\r\n--" + b + "--";
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, "1");
  EXPECT_EQ((*parts)[1].body, "2");
}

TEST(multipart_form, accepts_bare_lf_in_part_headers_and_any_header_case) {
  const std::string body = body_of({
      "content-disposition: FORM-DATA; NAME=\"file\"; FileName=\"a.wav\"\ncontent-TYPE:audio/wav \n\n\r\nRIFF\n",
      "CONTENT-DISPOSITION:form-data;name=model\r\nX-Other: ignored\n\r\nwhisper-1",
  });
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "file");
  EXPECT_EQ((*parts)[0].filename, "a.wav");
  EXPECT_EQ((*parts)[0].content_type, "audio/wav");
  EXPECT_EQ((*parts)[0].body, "\r\nRIFF\n") << "the body starts right after the blank line";
  EXPECT_EQ((*parts)[1].name, "model");
  EXPECT_EQ((*parts)[1].body, "whisper-1");
}

TEST(multipart_form, reads_parameters_quoted_escaped_folded_and_prefers_filename_to_filename_star) {
  const std::string body = body_of({
      "Content-Disposition: form-data; filename*=UTF-8''sp%C3%A9ech.wav; name=\"fi\\\"le\"; filename=\"C:\\\\a \\\"b\\\".wav\"\r\n"
      "Content-Type: audio/wav;\r\n rate=16000\r\n\r\nx",
      "Content-Disposition: form-data;\r\n\tname=\"folded\"\r\nContent-Type: text/plain\r\n \t\r\n\r\ny",
      "Content-Disposition: form-data; name=\"empty-filename\"; filename=\"\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n",
      "Content-Disposition: form-data; name=\"only-star\"; filename*=UTF-8''a.wav\r\n\r\nz",
  });
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 4u);
  EXPECT_EQ((*parts)[0].name, "fi\"le");
  EXPECT_EQ((*parts)[0].filename, "C:\\a \"b\".wav");
  EXPECT_EQ((*parts)[0].content_type, "audio/wav; rate=16000");
  EXPECT_EQ((*parts)[1].name, "folded");
  EXPECT_EQ((*parts)[1].content_type, "text/plain") << "a blank continuation line adds nothing";
  EXPECT_EQ((*parts)[1].body, "y");
  EXPECT_EQ((*parts)[2].filename, "") << "a file input left empty: a file all the same";
  EXPECT_EQ((*parts)[2].body, "");
  EXPECT_FALSE((*parts)[3].filename.has_value()) << "filename* is ignored (RFC 7578 §4.2)";
}

TEST(multipart_form, skips_boundary_lookalikes_inside_file_data) {
  const std::string b(k_boundary);
  const std::string data = "\r\n--" + b + "x" + "\r\n--" + b + "-\r\n" + "\r\n--" + b + " -\r\n" + "\r\n--" + b +
                           "\n" + "y--" + b + "\r\n" + "\r\n--" + b + "\r\r\n" + "\n--" + b + "--\r\n" + "\r\n--" +
                           b.substr(1) + "\r\n";
  const std::string body = body_of({"Content-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + data,
                                    text_part("model", "m")});
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].body, data);
  EXPECT_EQ((*parts)[1].body, "m");
}

TEST(multipart_form, keeps_empty_parts_and_reads_an_empty_form) {
  const std::string b(k_boundary);
  // An empty value; a part whose headers end at the delimiter (no blank line: all headers, no body);
  // the same without even the header line's CRLF.
  const std::string body = "--" + b + "\r\n" + text_part("prompt", "") +
                           "\r\n--" + b + "\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\n--" + b +
                           "\r\nContent-Disposition: form-data; name=\"temperature\"\r\n--" + b + "--\r\n";
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts) << parts.error().describe();
  ASSERT_EQ(parts->size(), 3u);
  for (const auto& p : *parts) {
    EXPECT_EQ(p.body, "") << p.name;
    EXPECT_TRUE(inside(p.body, body)) << p.name;
  }
  EXPECT_EQ((*parts)[1].name, "language");
  EXPECT_EQ((*parts)[2].name, "temperature");

  const auto none = parse_multipart_form(k_content_type, "--" + b + "--\r\n");
  ASSERT_TRUE(none) << none.error().describe();
  EXPECT_TRUE(none->empty());
}

TEST(multipart_form, holds_to_its_limits) {
  std::vector<std::string> raw;
  for (int i = 0; i < 4; ++i) raw.push_back(text_part("f" + std::to_string(i), "v"));
  const std::string four = body_of(raw);
  EXPECT_TRUE(parse_multipart_form(k_content_type, four, {.max_parts = 4}));
  const auto five = parse_multipart_form(k_content_type, four, {.max_parts = 3});
  ASSERT_FALSE(five);
  EXPECT_EQ(five.error().code, errc::invalid_argument);
  EXPECT_EQ(five.error().message, "more than 3 parts");
  std::vector<std::string> many(33, text_part("f", "v"));
  EXPECT_EQ(parse_multipart_form(k_content_type, body_of(many)).error().message, "more than 32 parts") << "the default";

  // Header bytes: every header line with its line ending, the blank line not counted.
  const std::string header = "Content-Disposition: form-data; name=\"f\"\r\nX-Pad: " + std::string(100, 'p') + "\r\n";
  const std::string body = body_of({header + "\r\nvalue"});
  const auto exact = parse_multipart_form(k_content_type, body, {.max_part_header_bytes = header.size()});
  ASSERT_TRUE(exact) << exact.error().describe();
  EXPECT_EQ((*exact)[0].body, "value");
  const auto over = parse_multipart_form(k_content_type, body, {.max_part_header_bytes = header.size() - 1});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message, "part 1's headers are longer than " + std::to_string(header.size() - 1) + " bytes");
  // A header that never ends: the limit, not a scan of the whole body.
  const std::string endless = body_of({"Content-Disposition: form-data; name=\"f\"; x=" + std::string(20000, 'x')});
  EXPECT_EQ(parse_multipart_form(k_content_type, endless).error().message, "part 1's headers are longer than 8192 bytes");
}

TEST(multipart_form, says_what_is_wrong_without_echoing_the_body) {
  const std::string b(k_boundary);
  const auto message = [](std::string_view content_type, const std::string& body) {
    const auto r = parse_multipart_form(content_type, body);
    if (r) return "(parsed " + std::to_string(r->size()) + " parts)";
    EXPECT_EQ(r.error().message.find("SECRET"), std::string::npos) << r.error().message;
    return r.error().message;
  };
  EXPECT_EQ(message("application/json", "{}"), "Content-Type is not multipart/form-data");
  EXPECT_EQ(parse_multipart_form("application/json", "{}").error().code, errc::unsupported_format);
  EXPECT_EQ(message("multipart/form-data", body_of({text_part("a", "1")})), "multipart/form-data without a boundary");
  EXPECT_EQ(message(k_content_type, ""), "no opening boundary");
  EXPECT_EQ(message(k_content_type, "SECRET plain text, no boundary at all"), "no opening boundary");
  EXPECT_EQ(message(k_content_type, "--" + b + "X\r\n" + text_part("a", "SECRET")), "no opening boundary");
  EXPECT_EQ(message(k_content_type, "--" + b), "no opening boundary") << "a boundary line without its CRLF";
  EXPECT_EQ(message(k_content_type, "--" + b + "\r\n" + text_part("a", "SECRET")), "no closing boundary");
  EXPECT_EQ(message(k_content_type, "--" + b + "\r\n" + text_part("a", "SECRET") + "\r\n--" + b + "X"),
            "no closing boundary");
  EXPECT_EQ(message(k_content_type, "--" + b + "\r\n" + text_part("a", "SECRET") + "\r\n--" + b + "\r\n"),
            "no closing boundary") << "truncated after a boundary";
  EXPECT_EQ(message(k_content_type, body_of({"Content-Type: text/plain\r\n\r\nSECRET"})),
            "part 1 has no Content-Disposition header");
  EXPECT_EQ(message(k_content_type, body_of({"\r\nSECRET"})), "part 1 has no Content-Disposition header");
  EXPECT_EQ(message(k_content_type, body_of({text_part("a", "1"), "Content-Disposition: attachment; name=\"b\"\r\n\r\nSECRET"})),
            "part 2's Content-Disposition is not form-data");
  EXPECT_EQ(message(k_content_type, body_of({"Content-Disposition: form-data; filename=\"SECRET\"\r\n\r\nx"})),
            "part 1's Content-Disposition has no name");
  EXPECT_EQ(message(k_content_type, body_of({"Content-Disposition: form-data; name=\"SECRET\r\n\r\nx"})),
            "part 1's Content-Disposition has a malformed parameter");
  EXPECT_EQ(message(k_content_type, body_of({"Content-Disposition: form-data; name=a\r\nSECRET\r\n\r\nx"})),
            "part 1 has a malformed header line");
  EXPECT_EQ(message(k_content_type, body_of({" folded: SECRET\r\n\r\nx"})), "part 1 has a malformed header line");
  EXPECT_EQ(message(k_content_type, body_of({": SECRET\r\n\r\nx"})), "part 1 has a malformed header line");
}

TEST(multipart_form, stays_linear_on_a_body_of_near_delimiters) {
  // 4 MB of "\r\n--" + all but the boundary's last character: every position is a near match.
  // Quadratic rescanning would take minutes; the test's timeout catches it.
  const std::string b(k_boundary);
  std::string near = "\r\n--" + b.substr(0, b.size() - 1);
  std::string body;
  while (body.size() < 4'000'000) body += near;
  EXPECT_EQ(parse_multipart_form(k_content_type, body).error().message, "no opening boundary");
  // The same as file data: one part, every byte kept.
  std::string upload = "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + body +
                       "\r\n--" + b + "--\r\n";
  const auto parts = parse_multipart_form(k_content_type, upload);
  ASSERT_TRUE(parts) << parts.error().describe();
  EXPECT_EQ((*parts)[0].body.size(), body.size());
  // And a body of lookalike delimiters, each followed by a wrong character.
  std::string lookalikes;
  while (lookalikes.size() < 4'000'000) lookalikes += "\r\n--" + b + "x";
  EXPECT_EQ(parse_multipart_form(k_content_type, lookalikes).error().message, "no opening boundary");
}

// ---- find_part ----

TEST(find_part, finds_the_first_part_of_a_name_or_nothing) {
  const std::string body = body_of({text_part("a", "1"), text_part("b", "2"), text_part("a", "3")});
  const auto parts = parse_multipart_form(k_content_type, body);
  ASSERT_TRUE(parts);
  ASSERT_NE(find_part(*parts, "a"), nullptr);
  EXPECT_EQ(find_part(*parts, "a")->body, "1");
  EXPECT_EQ(find_part(*parts, "a"), &(*parts)[0]);
  EXPECT_EQ(find_part(*parts, "b")->body, "2");
  EXPECT_EQ(find_part(*parts, "A"), nullptr) << "names are case-sensitive";
  EXPECT_EQ(find_part(*parts, "c"), nullptr);
  EXPECT_EQ(find_part({}, "a"), nullptr);
}

}  // namespace
}  // namespace parley::net
