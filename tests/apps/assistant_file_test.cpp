// The assistant file (apps/assistant_file): what a file sets, and what it refuses, with the place.
#include "parley/apps/assistant_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace parley::app {
namespace {

namespace fs = std::filesystem;

class assistant_file : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("parley-assistant-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream((dir_ / name).string()) << text;
    return (dir_ / name).string();
  }
  // Loads `text` as a file; the error message, or "" when it loaded.
  std::string load(const std::string& text) {
    const auto s = load_assistant_file(write("a.toml", text), engines, pipeline);
    return s ? "" : s.error().message;
  }
  fs::path dir_;
  engine_choice engines;
  pipeline_flags pipeline;
};

TEST_F(assistant_file, the_example_parley_init_writes_loads_back_to_the_defaults) {
  ASSERT_EQ(load(example_assistant_file()), "");
  EXPECT_TRUE(engines == engine_choice{});
  EXPECT_TRUE(pipeline == pipeline_flags{});
}

TEST_F(assistant_file, every_table_sets_what_it_names) {
  write("menu.json", R"({"entries": [{"id": "x", "questions": ["q"], "answer": "a"}]})");
  ASSERT_EQ(load(R"(
[assistant]
name = "Luigi's"
greeting = "Hello!"
persona = """You answer the phone \
at Luigi's."""
fallback_reply = "Sorry."
voice = "slt"
[knowledge]
faq = "menu.json"
intents = false
[llm]
url = "http://127.0.0.1:9/v1"
model = "m"
temperature = 0.25
max_tokens = 99
headers = { "X-Team" = "TEAM_ENV" }
hedge_ms = 300
[cache]
kind = "off"
[privacy]
policy = "allow_cloud"
[turn_taking]
preset = "patient"
barge_in = true
[latency]
ttfa_budget_ms = 800
fillers = false
[audio]
vad_aggressiveness = 3
)"),
            "");
  EXPECT_EQ(engines.assistant_name, "Luigi's");
  EXPECT_EQ(engines.greeting, "Hello!");
  EXPECT_EQ(engines.system_prompt, "You answer the phone at Luigi's.");
  EXPECT_EQ(engines.fallback_reply, "Sorry.");
  EXPECT_EQ(engines.voice, "slt");
  EXPECT_EQ(fs::path(engines.faq_path), dir_ / "menu.json") << "relative to the file";
  EXPECT_FALSE(engines.intents);
  EXPECT_EQ(engines.llm_url, "http://127.0.0.1:9/v1");
  EXPECT_EQ(engines.llm_temperature, 0.25);
  EXPECT_EQ(engines.llm_max_tokens, 99);
  ASSERT_EQ(engines.llm_headers.size(), 1u);
  EXPECT_EQ(engines.llm_headers[0], (std::pair<std::string, std::string>{"X-Team", "TEAM_ENV"}));
  EXPECT_EQ(engines.hedge_ms, 300.0) << "an integer is a number too";
  EXPECT_EQ(engines.cache, "off");
  EXPECT_EQ(engines.privacy, "allow_cloud");
  EXPECT_EQ(pipeline.turn_taking, "patient");
  EXPECT_TRUE(pipeline.barge_in);
  EXPECT_EQ(engines.ttfa_budget_ms, 800.0);
  EXPECT_FALSE(engines.fillers);
  EXPECT_EQ(pipeline.vad_aggressiveness, 3);
  EXPECT_EQ(engines.model_ctx, engine_choice{}.model_ctx) << "what the file leaves out keeps its default";
}

TEST_F(assistant_file, mistakes_are_refused_with_the_file_line_and_key) {
  const std::string file = (dir_ / "a.toml").string();
  EXPECT_EQ(load("[assistant]\nname = \"x\"\nnmae = \"y\"\n"),
            file + ":3: unknown key 'nmae' in [assistant] (its keys: name, greeting, persona, fallback_reply, voice)");
  EXPECT_EQ(load("\n[llm]\nmax_tokens = \"many\"\n"), file + ":3: llm.max_tokens must be an integer, not a string");
  EXPECT_EQ(load("[llm]\nmax_tokens = 0\n"), file + ":2: llm.max_tokens must be between 1 and 32768, not 0");
  EXPECT_EQ(load("[llm]\ntemperature = 3.5\n"), file + ":2: llm.temperature must be between 0 and 2, not 3.5");
  EXPECT_EQ(load("[turn_taking]\npreset = \"fast\"\n"),
            file + ":2: turn_taking.preset must be one of off, quick, conversational, patient, not \"fast\"");
  EXPECT_EQ(load("[latency]\nfillers = \"yes\"\n"), file + ":2: latency.fillers must be true or false, not a string");
  EXPECT_EQ(load("[llm]\nheaders = { \"X-Team\" = 3 }\n"),
            file + ":2: llm.headers \"X-Team\" must name an environment variable (a string)");
  EXPECT_NE(load("[asistant]\nname = \"x\"\n").find(file + ":1: unknown table [asistant] (the file's tables: assistant, "),
            std::string::npos);
  EXPECT_NE(load("name = \"x\"\n").find(file + ":1: unknown key 'name' (the file's tables:"), std::string::npos);
  EXPECT_NE(load("[knowledge]\nfaq = \"missing.json\"\n").find(file + ":2: knowledge.faq names \"missing.json\", which is not a file"),
            std::string::npos);
  EXPECT_EQ(load("[llm\nurl = 1\n").rfind(file + ":1:", 0), 0u) << "a syntax error names the line and column";
  engine_choice untouched;
  const auto missing = load_assistant_file((dir_ / "none.toml").string(), untouched, pipeline);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("none.toml: no such file"), std::string::npos);
}

TEST_F(assistant_file, the_argument_is_found_in_either_spelling) {
  const char* spaced[] = {"parley", "run", "in.wav", "--assistant", "a.toml", "--voice", "slt"};
  EXPECT_EQ(assistant_file_argument(7, spaced), "a.toml");
  const char* joined[] = {"parley", "serve", "--assistant=b.toml"};
  EXPECT_EQ(assistant_file_argument(3, joined), "b.toml");
  const char* none[] = {"parley", "run", "in.wav", "--assistant"};
  EXPECT_EQ(assistant_file_argument(4, none), "");
}

TEST_F(assistant_file, the_key_reference_lists_every_key_the_example_shows) {
  const auto example = example_assistant_file();
  const auto table = assistant_keys_markdown();
  for (const char* key : {"`assistant.persona`", "`llm.headers`", "`turn_taking.preset`", "`audio.snr_gate_db`"}) {
    EXPECT_NE(table.find(key), std::string::npos) << key;
  }
  EXPECT_NE(example.find("\n[llm]\n"), std::string::npos);
  EXPECT_NE(example.find("\n# url = \"http://127.0.0.1:8080/v1\"\n"), std::string::npos) << "unset keys are shown commented";
}

TEST_F(assistant_file, tools_are_read_one_table_each_with_their_schema_as_json) {
  ASSERT_EQ(load(R"(
[[tools]]
name = "book_table"
description = "Books a table."
url = "http://127.0.0.1:9000/bookings"
timeout_ms = 1500
headers = { "Authorization" = "BOOKING_AUTH" }
parameters = { type = "object", required = ["time"], properties = { time = { type = "string" } } }

[[tools]]
name = "order_status"
description = "Looks up an order."
url = "http://127.0.0.1:9000/orders"
method = "GET"
parameters = '{"type": "object", "properties": {"order": {"type": "string"}}}'
)"),
            "");
  ASSERT_EQ(engines.tools.size(), 2u);
  const auto& book = engines.tools[0];
  EXPECT_EQ(book.name, "book_table");
  EXPECT_EQ(book.timeout_ms, 1500);
  EXPECT_EQ(book.method, "POST");
  EXPECT_EQ(nlohmann::json::parse(book.parameters)["required"][0], "time");
  ASSERT_EQ(book.headers.size(), 1u);
  EXPECT_EQ(book.headers[0].second, "BOOKING_AUTH");
  EXPECT_EQ(engines.tools[1].method, "GET");
  EXPECT_EQ(nlohmann::json::parse(engines.tools[1].parameters)["properties"]["order"]["type"], "string");

  const std::string file = (dir_ / "a.toml").string();
  EXPECT_EQ(load("[[tools]]\nname = \"x\"\ndescription = \"d\"\n"),
            file + ":1: a [[tools]] entry needs a name, a description and a url");
  EXPECT_EQ(load("[tools]\nname = \"x\"\n"), file + ":1: tools must be tables: [[tools]], one per tool");
  EXPECT_EQ(load("[[tools]]\nname = \"x\"\nmethod = \"DELETE\"\n"),
            file + ":3: tools.method must be one of GET, POST, PUT, PATCH, not \"DELETE\"");
  EXPECT_EQ(load("[[tools]]\nname = \"x\"\nparameters = \"[1, 2]\"\n"), file + ":3: tools.parameters must be a JSON Schema object");
  EXPECT_EQ(load("[[tools]]\nname = \"a\"\ndescription = \"d\"\nurl = \"http://h/x\"\n[[tools]]\nname = \"a\"\n"
                 "description = \"d\"\nurl = \"http://h/y\"\n"),
            file + ":5: a second tool named a");
}

TEST_F(assistant_file, the_shipped_examples_load) {
  const std::string dir = std::string(PARLEY_SOURCE_DIR) + "/examples/assistants/";
  ASSERT_TRUE(load_assistant_file(dir + "store.toml", engines, pipeline));
  engine_choice defaults;
  EXPECT_EQ(fs::path(engines.faq_path), fs::path(default_faq_path()).lexically_normal()) << "the bundled FAQ";
  engines.faq_path.clear();
  engines.voice.clear();  // "rms", the flite default, written out
  EXPECT_TRUE(engines == defaults) << "store.toml is the defaults";
  engine_choice luigi;
  ASSERT_TRUE(load_assistant_file(dir + "restaurant.toml", luigi, pipeline));
  EXPECT_EQ(luigi.assistant_name, "Luigi's");
  EXPECT_FALSE(luigi.greeting.empty());
  EXPECT_EQ(pipeline.turn_taking, "patient");
}

}  // namespace
}  // namespace parley::app
