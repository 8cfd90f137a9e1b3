#include <boost/asio/post.hpp>
#include <cctype>
#include <random>

#include "parley/engines/mock/mock_engines.hpp"
#include "parley/engines/mock/timed_job.hpp"

namespace parley::mock {
namespace {

constexpr std::size_t k_max_token_bytes = 5;

// One streamed reply: wait the sampled TTFT, then one token per (jittered) gap.
class chat_job final : public detail::timed_job {
 public:
  chat_job(const chat_config& config, std::vector<std::string> tokens, engine::chat_events events,
           std::stop_token stop, std::uint64_t seed, std::atomic<std::uint64_t>& n_tokens_sent)
      : timed_job(config.executor, std::move(stop)),
        profile_(config.profile),
        tokens_(std::move(tokens)),
        events_(std::move(events)),
        rng_(seed),
        n_tokens_sent_(n_tokens_sent) {}

  void start() {
    watch_stop();
    after(profile_.ttft.sample(rng_), [this] { send_next(); });
  }

 private:
  void send_next() {
    if (profile_.tokens_per_s <= 0.0) {  // no pacing: the whole reply at once, still stoppable per token
      while (next_ < tokens_.size()) {
        if (stop_requested()) return on_stopped();
        emit(tokens_[next_++]);
      }
      return finish({});
    }
    if (next_ < tokens_.size()) emit(tokens_[next_++]);
    if (next_ >= tokens_.size()) return finish({});
    after(next_gap_ms(), [this] { send_next(); });
  }

  double next_gap_ms() {
    const double base = 1000.0 / profile_.tokens_per_s;
    std::uniform_real_distribution<double> jitter(-profile_.jitter, profile_.jitter);
    return base * (1.0 + jitter(rng_));
  }

  void emit(const std::string& token) {
    n_tokens_sent_.fetch_add(1, std::memory_order_relaxed);
    if (events_.on_token) events_.on_token(token);
  }

  void on_stopped() override { finish(make_error(errc::cancelled, "reply cancelled")); }

  void finish(status s) {
    if (done_) return;
    done_ = true;
    release_stop();
    if (events_.on_done) events_.on_done(std::move(s));
    events_ = {};
  }

  llm_profile profile_;
  std::vector<std::string> tokens_;
  engine::chat_events events_;
  std::mt19937_64 rng_;
  std::atomic<std::uint64_t>& n_tokens_sent_;
  std::size_t next_ = 0;
  bool done_ = false;
};

bool is_word_byte(unsigned char c) { return std::isalnum(c) || c == '\'' || c >= 0x80; }

}  // namespace

std::string default_mock_reply(std::string_view user_text) {
  std::string question(user_text);
  while (!question.empty() && (question.back() == '?' || question.back() == '.' || question.back() == ' ')) {
    question.pop_back();
  }
  if (question.empty()) question = "nothing I could hear";
  return "You asked: " + question +
         ". This is parley's mock language model, streaming its reply at the pace of a real provider. "
         "Real answers come from the embedded voice stack or a configured LLM.";
}

std::vector<std::string> split_into_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    std::string token;
    while (i < text.size() && text[i] == ' ') token += text[i++];  // leading space, as BPE does
    if (i < text.size() && is_word_byte(static_cast<unsigned char>(text[i]))) {
      std::size_t end = i;
      while (end < text.size() && is_word_byte(static_cast<unsigned char>(text[end]))) ++end;
      std::string_view word = text.substr(i, end - i);
      // Long words come in several pieces; the first keeps the leading space.
      token += word.substr(0, k_max_token_bytes);
      tokens.push_back(std::move(token));
      for (std::size_t at = k_max_token_bytes; at < word.size(); at += k_max_token_bytes) {
        tokens.emplace_back(word.substr(at, k_max_token_bytes));
      }
      i = end;
    } else if (i < text.size()) {
      token += text[i++];
      tokens.push_back(std::move(token));
    } else if (!token.empty()) {
      tokens.push_back(std::move(token));
    }
  }
  return tokens;
}

mock_chat_model::mock_chat_model(chat_config config) : config_(std::move(config)) {}

void mock_chat_model::stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) {
  const auto index = n_requests_.fetch_add(1);
  const std::string reply =
      config_.reply ? config_.reply(request) : default_mock_reply(request.last_user_text());
  auto job = std::make_shared<chat_job>(config_, split_into_tokens(reply), std::move(events), std::move(stop),
                                        config_.seed * 1000003 + index, n_tokens_);
  job->start();
}

}  // namespace parley::mock
