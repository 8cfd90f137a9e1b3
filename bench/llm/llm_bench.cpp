// parley_llm_bench — what KV reuse buys, and embedded llama.cpp against llama-server over HTTP.
//
// One run, side by side, on one GGUF model (make one with scripts/llama/make_model.py --size small):
//   reuse     the embedded model as parley runs it: each session keeps its KV cache between turns,
//             and a new session gets the system prompt's KV state copied in
//   no-reuse  the same model file with reuse off: every turn decodes its whole prompt
//   http      (with --server-url) the same model served by llama-server, streamed through
//             parley's OpenAI client (llama-server keeps its own prompt cache per slot)
// Each repetition is a fresh conversation: a system prompt of about --system-tokens tokens, a
// first user turn, the model's reply (max --reply-tokens tokens, greedy), then a second user turn.
// Measured: TTFT (stream() → first token) of turn 1 and of turn 2, per mode; the modes take
// turns within each repetition so machine noise hits them alike. Before each turn the bench waits
// --gap-ms (1 s), as a real turn comes after the user has spoken. Output: a markdown table of
// medians and p90s, and the ratios, on stdout and in --out.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <sys/utsname.h>

#include "parley/engines/llama/llama_chat_model.hpp"
#include "parley/engines/openai/openai_chat_model.hpp"

namespace {

using namespace parley;
using engine::chat_message;
using engine::chat_role;
using clock_type = std::chrono::steady_clock;

struct turn_result {
  double ttft_ms = -1.0;  // -1: no token came
  std::string text;
  bool ok = false;
  std::string error;
};

turn_result run_turn(engine::chat_model& model, std::uint64_t session, std::vector<chat_message> messages,
                     int max_tokens) {
  struct shared_state {
    std::mutex mutex;
    std::condition_variable cv;
    turn_result out;
    bool done = false;
    bool first = true;
  };
  auto st = std::make_shared<shared_state>();
  engine::chat_request request;
  request.messages = std::move(messages);
  request.max_tokens = max_tokens;
  request.temperature = 0.0;
  request.context.session = session_id{session};
  const auto t0 = clock_type::now();
  model.stream(std::move(request),
               {.on_token = [st, t0](std::string_view t) {
                  std::lock_guard lock(st->mutex);
                  if (st->first) {
                    st->first = false;
                    st->out.ttft_ms = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
                  }
                  st->out.text += t;
                },
                .on_done = [st](status s) {
                  std::lock_guard lock(st->mutex);
                  st->out.ok = s.has_value();
                  if (!s) st->out.error = s.error().describe();
                  st->done = true;
                  st->cv.notify_all();
                }},
               {});
  std::unique_lock lock(st->mutex);
  st->cv.wait_for(lock, std::chrono::minutes(5), [&] { return st->done; });
  return st->out;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return -1.0;
  std::sort(v.begin(), v.end());
  const double rank = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(rank);
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

std::string system_prompt(int approx_tokens) {
  // Store policy prose: ~1.3 tokens per word for llama-family vocabularies.
  static const char* kSentences[] = {
      "You are the voice assistant of a neighbourhood hardware store.",
      "Answer in one or two short sentences that sound natural when spoken aloud.",
      "The store opens at eight in the morning and closes at eight in the evening on weekdays.",
      "On Saturdays it opens at nine and closes at six, and on Sundays it is closed.",
      "Customers may return unused items within thirty days with a receipt for a full refund.",
      "Paint that was mixed to order cannot be returned unless it is faulty.",
      "Delivery is free for orders over fifty dollars within ten miles of the store.",
      "Keys can be cut while the customer waits, and most keys take about five minutes.",
      "Never read out card numbers or other personal data, and never guess prices you do not know.",
      "If a question is not about the store, answer briefly and politely, then offer further help."};
  std::string out;
  int words = 0;
  for (std::size_t i = 0; words * 13 / 10 < approx_tokens; ++i) {
    const std::string sentence = kSentences[i % std::size(kSentences)];
    out += (out.empty() ? "" : " ") + sentence;
    words += static_cast<int>(std::count(sentence.begin(), sentence.end(), ' ') + 1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"parley_llm_bench: TTFT with and without KV reuse, embedded llama.cpp and llama-server, side by side"};
  std::string model_path;
  std::string server_url;
  std::string out_path;
  int reps = 10;
  int system_tokens = 500;
  int reply_tokens = 16;
  int threads = 0;
  int gap_ms = 1000;
  app.add_option("--model", model_path, "GGUF model file")->required()->check(CLI::ExistingFile);
  app.add_option("--server-url", server_url, "llama-server serving the same model, e.g. http://127.0.0.1:8080/v1");
  app.add_option("--reps", reps, "conversations per mode")->capture_default_str()->check(CLI::Range(1, 1000));
  app.add_option("--system-tokens", system_tokens, "approximate system prompt length")->capture_default_str();
  app.add_option("--reply-tokens", reply_tokens, "reply length of turn 1")->capture_default_str();
  app.add_option("--threads", threads, "decoding threads (0: every core)")->capture_default_str();
  app.add_option("--gap-ms", gap_ms,
                 "idle time before each turn, as while the user speaks (background work such as making the next "
                 "session's context happens then, not during a measured turn)")
      ->capture_default_str();
  app.add_option("--out", out_path, "also write the markdown table here");
  CLI11_PARSE(app, argc, argv);

  auto reuse = llama::llama_chat_model::load({.model_path = model_path, .threads = threads, .max_sessions = 4});
  auto fresh = llama::llama_chat_model::load(
      {.model_path = model_path, .threads = threads, .max_sessions = 4, .reuse_kv = false});
  if (!reuse || !fresh) {
    std::cerr << "parley_llm_bench: " << (reuse ? fresh.error() : reuse.error()).describe() << "\n";
    return 1;
  }
  std::shared_ptr<openai::openai_chat_model> http;
  if (!server_url.empty()) {
    openai::chat_config cfg;
    cfg.provider.base_url = server_url;
    cfg.model = "bench";
    auto made = openai::openai_chat_model::create(cfg);
    if (!made) {
      std::cerr << "parley_llm_bench: " << made.error().describe() << "\n";
      return 1;
    }
    http = std::move(*made);
    http->warm();
  }

  struct mode {
    std::string name;
    engine::chat_model* model;
    std::vector<double> turn1, turn2;
    std::uint64_t decoded2 = 0;  // prompt tokens the engine decoded on turns 2 (llama modes)
  };
  std::vector<mode> modes{{"reuse", reuse->get(), {}, {}}, {"no-reuse", fresh->get(), {}, {}}};
  if (http) modes.push_back({"http", http.get(), {}, {}});

  const std::string system = system_prompt(system_tokens);
  // A first conversation per mode warms caches and threads; it is not counted.
  std::uint64_t session = 1000;
  for (auto& m : modes) {
    (void)run_turn(*m.model, ++session, {{chat_role::system, "Warm-up."}, {chat_role::user, "Hi."}}, 2);
  }
  const auto before = (*reuse)->stats();
  for (int rep = 0; rep < reps; ++rep) {
    for (auto& m : modes) {
      ++session;
      // Vary the first question so llama-server's and our caches cannot serve turn 1 whole.
      std::vector<chat_message> conversation{
          {chat_role::system, system},
          {chat_role::user, "Question " + std::to_string(rep) + ": when do you open on Saturdays?"}};
      std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
      auto t1 = run_turn(*m.model, session, conversation, reply_tokens);
      conversation.push_back({chat_role::assistant, t1.text});
      conversation.push_back({chat_role::user, "And can I return paint?"});
      auto* embedded = dynamic_cast<llama::llama_chat_model*>(m.model);
      const auto decoded_before = embedded != nullptr ? embedded->stats().decoded_tokens : 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
      auto t2 = run_turn(*m.model, session, conversation, 4);
      if (embedded != nullptr) m.decoded2 += embedded->stats().decoded_tokens - decoded_before;
      if (!t1.ok || !t2.ok) {
        std::cerr << "parley_llm_bench: " << m.name << ": " << (t1.ok ? t2.error : t1.error) << "\n";
        return 1;
      }
      m.turn1.push_back(t1.ttft_ms);
      m.turn2.push_back(t2.ttft_ms);
      m.model->forget_session(session_id{session});
    }
    std::cerr << "\rrep " << rep + 1 << "/" << reps << std::flush;
  }
  std::cerr << "\n";
  const auto after = (*reuse)->stats();
  const double prompt_per_rep =
      static_cast<double>(after.prompt_tokens - before.prompt_tokens) / (2.0 * static_cast<double>(reps));

  utsname host{};
  uname(&host);
  std::ostringstream md;
  md.setf(std::ios::fixed);
  md.precision(1);
  md << "model: " << (*reuse)->describe() << " · host " << host.machine << " " << std::thread::hardware_concurrency()
     << " cores · " << reps << " conversations per mode · system prompt ~" << system_tokens
     << " tokens (mean prompt " << prompt_per_rep << " tokens per turn)\n\n";
  md << "| mode | turn 1 TTFT p50 | turn 1 p90 | turn 2 TTFT p50 | turn 2 p90 | turn 2 tokens decoded |\n"
     << "|---|---|---|---|---|---|\n";
  for (const auto& m : modes) {
    md << "| " << m.name << " | " << percentile(m.turn1, 0.5) << " ms | " << percentile(m.turn1, 0.9) << " ms | "
       << percentile(m.turn2, 0.5) << " ms | " << percentile(m.turn2, 0.9) << " ms | ";
    if (m.name == "http") {
      md << "(server) |\n";
    } else {
      md << static_cast<double>(m.decoded2) / reps << " |\n";
    }
  }
  const double r2 = percentile(modes[1].turn2, 0.5) / percentile(modes[0].turn2, 0.5);
  const double r1 = percentile(modes[1].turn1, 0.5) / percentile(modes[0].turn1, 0.5);
  md.precision(2);
  md << "\nturn 2 TTFT p50, no-reuse / reuse: **" << r2 << "×**; turn 1 (system prompt copied into a new session): "
     << r1 << "×\n";
  if (http) {
    md << "turn 2 TTFT p50, http / embedded: " << percentile(modes[2].turn2, 0.5) / percentile(modes[0].turn2, 0.5)
       << "×; turn 1: " << percentile(modes[2].turn1, 0.5) / percentile(modes[0].turn1, 0.5) << "×\n";
  }
  std::cout << md.str();
  if (!out_path.empty()) std::ofstream(out_path) << md.str();
  return 0;
}
