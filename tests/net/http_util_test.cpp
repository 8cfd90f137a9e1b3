// http_util: request targets and query strings, static-file paths and content types, responses.
#include "parley/net/http_util.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace parley::net {
namespace {

namespace http = boost::beast::http;

TEST(http_util, targets_and_query_parameters) {
  const auto t = split_target("/ws?access_token=a%2Fb%3D&x=1");
  EXPECT_EQ(t.path, "/ws");
  EXPECT_EQ(t.query, "access_token=a%2Fb%3D&x=1");
  EXPECT_EQ(query_param(t.query, "access_token"), "a/b=");
  EXPECT_EQ(query_param(t.query, "x"), "1");
  EXPECT_EQ(query_param("flag&y=2", "flag"), "");
  EXPECT_EQ(query_param(t.query, "missing"), std::nullopt);
  EXPECT_EQ(split_target("/metrics").query, "");
  EXPECT_EQ(percent_decode("a+b%20c%zz%4"), "a b c%zz%4") << "bad escapes stay as they are";
}

TEST(http_util, static_files_are_plain_relative_paths_under_the_root) {
  EXPECT_EQ(static_file("/srv/web", "/"), std::filesystem::path("/srv/web/index.html"));
  EXPECT_EQ(static_file("/srv/web", "/js/main.js"), std::filesystem::path("/srv/web/js/main.js"));
  EXPECT_EQ(static_file("", "/index.html"), std::nullopt) << "no web root";
  for (const char* bad : {"/../etc/passwd", "/js/../app.js", "//etc/passwd", "/.hidden", "/js/", "/a b", "/%2e%2e/x", ""}) {
    EXPECT_EQ(static_file("/srv/web", bad), std::nullopt) << bad;
  }
  EXPECT_EQ(content_type_of("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_of("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_of("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_of("blob.bin"), "application/octet-stream");
}

TEST(http_util, read_static_file_reads_regular_files_only) {
  const auto dir = std::filesystem::temp_directory_path() / ("parley_http_util_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "sub");
  std::ofstream(dir / "a.txt") << "hello";
  EXPECT_EQ(read_static_file(dir / "a.txt"), "hello");
  EXPECT_EQ(read_static_file(dir / "sub"), std::nullopt) << "a directory is not a file";
  EXPECT_EQ(read_static_file(dir / "absent"), std::nullopt);
  std::filesystem::remove_all(dir);
}

TEST(http_util, responses_have_the_server_shape_and_no_body_for_head) {
  http::request<http::string_body> get{http::verb::get, "/healthz", 11};
  auto res = make_response(get, http::status::ok, "ok\n");
  EXPECT_EQ(res[http::field::server], "parley");
  EXPECT_EQ(res[http::field::cache_control], "no-store");
  EXPECT_EQ(res[http::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(res.body(), "ok\n");
  http::request<http::string_body> head{http::verb::head, "/healthz", 11};
  EXPECT_EQ(make_response(head, http::status::ok, "ok\n").body(), "");
}

}  // namespace
}  // namespace parley::net
