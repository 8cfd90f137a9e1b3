#include "parley/engines/llama/llama_chat_model.hpp"

#include <llama.h>
#include <ggml-backend.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <vector>

#include "parley/core/log.hpp"
#include "parley/engines/llama/backend.hpp"

namespace parley::llama {
namespace {

using tokens = std::vector<llama_token>;

std::size_t common_prefix(const tokens& a, const tokens& b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

bool starts_with(const tokens& whole, const tokens& prefix) {
  return prefix.size() <= whole.size() && std::equal(prefix.begin(), prefix.end(), whole.begin());
}

// One session's context: what its KV cache holds (sequence 0) and who is using it.
struct session_slot {
  session_id id;
  llama_context* ctx = nullptr;
  tokens kv;                 // the tokens whose keys and values are in ctx, in order
  std::uint64_t last_used = 0;
  bool busy = false;         // a request is running on it
  // Set (from the thread that requests the stop) when the running request is cancelled; read by
  // llama.cpp's abort callback on its compute threads, so a long prompt batch stops at once.
  std::atomic<bool> abort{false};

  session_slot() = default;
  session_slot(const session_slot&) = delete;
  session_slot& operator=(const session_slot&) = delete;
  ~session_slot() {
    if (ctx != nullptr) llama_free(ctx);
  }
};

// One stream() call, as the worker advances it.
struct job {
  engine::chat_request request;
  engine::chat_events events;
  std::stop_token stop;
  enum class phase { waiting, prompt, generate } at = phase::waiting;
  session_slot* slot = nullptr;
  tokens prompt;
  std::size_t next = 0;  // index of the next prompt token to decode
  llama_sampler* sampler = nullptr;
  int max_tokens = 0;
  int generated = 0;
  std::optional<std::stop_callback<std::function<void()>>> abort_on_stop;  // while it owns `slot`

  ~job() {
    if (sampler != nullptr) llama_sampler_free(sampler);
  }
};

bool abort_when_stopped(void* data) {
  return static_cast<const session_slot*>(data)->abort.load(std::memory_order_acquire);
}

}  // namespace

struct llama_chat_model::impl {
  llama_config config;
  llama_model* model = nullptr;
  const llama_vocab* vocab = nullptr;
  std::string template_text;  // the model's chat template, or "chatml"
  std::string model_name;
  int n_ctx = 0;
  int n_threads = 1;

  // Touched by the worker thread only.
  std::list<session_slot> slots;
  std::deque<std::unique_ptr<job>> active;
  std::map<tokens, std::vector<std::uint8_t>> system_states;  // system-prompt prefix -> KV state
  std::uint64_t tick = 0;

  // Shared with callers.
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::vector<std::unique_ptr<job>> inbox;
  std::vector<session_id> forgotten;
  bool stopping = false;
  llama_stats counters;
  // At most one context made ahead of need, so a new session does not wait for a context (and
  // its KV buffers) to be created. The maker thread makes it, off the decoding thread, whenever
  // there is none and fewer than max_sessions are open; a freed session's context lands here too.
  std::list<session_slot> spare;
  bool want_spare = false;  // set by the worker: the maker should make one
  std::condition_variable maker_wake;
  std::thread maker;
  std::thread worker;

  ~impl() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    maker_wake.notify_all();
    if (worker.joinable()) worker.join();
    if (maker.joinable()) maker.join();
    slots.clear();
    spare.clear();
    if (model != nullptr) llama_model_free(model);
  }

  // ---- text <-> tokens ---------------------------------------------------------------------

  tokens tokenize(std::string_view text) const {
    tokens out(text.size() + 8);
    int n = llama_tokenize(vocab, text.data(), static_cast<std::int32_t>(text.size()), out.data(),
                           static_cast<std::int32_t>(out.size()), /*add_special=*/true, /*parse_special=*/true);
    if (n < 0) {
      out.resize(static_cast<std::size_t>(-n));
      n = llama_tokenize(vocab, text.data(), static_cast<std::int32_t>(text.size()), out.data(),
                         static_cast<std::int32_t>(out.size()), true, true);
    }
    out.resize(static_cast<std::size_t>(std::max(n, 0)));
    return out;
  }

  std::string piece(llama_token token) const {
    char buf[256];
    const int n = llama_token_to_piece(vocab, token, buf, sizeof buf, 0, /*special=*/false);
    if (n >= 0) return std::string(buf, static_cast<std::size_t>(n));
    std::string big(static_cast<std::size_t>(-n), '\0');
    const int m = llama_token_to_piece(vocab, token, big.data(), -n, 0, false);
    big.resize(static_cast<std::size_t>(std::max(m, 0)));
    return big;
  }

  /// The prompt for `messages` in the model's chat format, ending where the assistant speaks
  /// (add_assistant) or after the last message.
  std::string render(const std::vector<engine::chat_message>& messages, bool add_assistant) const {
    std::vector<llama_chat_message> chat;
    chat.reserve(messages.size());
    std::size_t chars = 0;
    for (const auto& m : messages) {
      chat.push_back({to_string(m.role).data(), m.content.c_str()});
      chars += m.content.size();
    }
    std::string out(2 * chars + 256, '\0');
    for (const char* tmpl : {template_text.c_str(), "chatml"}) {
      int n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), add_assistant, out.data(),
                                        static_cast<std::int32_t>(out.size()));
      if (n > static_cast<int>(out.size())) {
        out.resize(static_cast<std::size_t>(n));
        n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), add_assistant, out.data(), n);
      }
      if (n >= 0) {
        out.resize(static_cast<std::size_t>(n));
        return out;
      }
    }
    return {};
  }

  // ---- sessions ----------------------------------------------------------------------------

  llama_context* new_context(session_slot& slot, int n_ctx_wanted) const {
    llama_context_params p = llama_context_default_params();
    p.n_ctx = static_cast<std::uint32_t>(n_ctx_wanted);
    p.n_batch = static_cast<std::uint32_t>(config.batch_tokens);
    p.n_ubatch = static_cast<std::uint32_t>(config.batch_tokens);
    p.n_seq_max = 1;
    p.n_threads = n_threads;
    p.n_threads_batch = n_threads;
    p.no_perf = true;
    p.abort_callback = abort_when_stopped;
    p.abort_callback_data = &slot;
    return llama_init_from_model(model, p);
  }

  /// A new context in a one-element list (empty when llama.cpp cannot make one). Slots stay at
  /// one address when spliced between lists, as the abort callback needs.
  std::list<session_slot> make_slot() {
    std::list<session_slot> made;
    auto& slot = made.emplace_back();
    slot.ctx = new_context(slot, n_ctx);
    if (slot.ctx == nullptr) {
      made.clear();
      return made;
    }
    std::lock_guard lock(mutex);
    ++counters.contexts_created;
    return made;
  }

  /// Worker: asks the maker for a spare when there is none and a new session could come.
  void update_want_spare_locked() {
    want_spare = spare.empty() && static_cast<int>(slots.size()) < config.max_sessions;
    if (want_spare) maker_wake.notify_one();
  }

  void run_maker() {
    std::unique_lock lock(mutex);
    for (;;) {
      maker_wake.wait(lock, [&] { return stopping || (want_spare && spare.empty()); });
      if (stopping) return;
      want_spare = false;
      lock.unlock();
      auto made = make_slot();  // the slow part: KV buffers and the compute graph
      lock.lock();
      if (spare.empty()) spare.splice(spare.end(), made);
      // else the worker put a freed context there meanwhile: `made` is freed on the next line
      lock.unlock();
      made.clear();
      lock.lock();
    }
  }

  /// The session's slot. A new session takes the spare context, else the least recently used
  /// idle one once max_sessions are open (its cache is dropped), else a new one made here.
  session_slot* slot_for(session_id id) {
    for (auto& s : slots) {
      if (s.id == id) return &s;
    }
    std::unique_lock lock(mutex);
    if (spare.empty() && static_cast<int>(slots.size()) >= config.max_sessions) {
      auto victim = slots.end();
      for (auto it = slots.begin(); it != slots.end(); ++it) {
        if (!it->busy && (victim == slots.end() || it->last_used < victim->last_used)) victim = it;
      }
      if (victim != slots.end()) {  // else all busy: go over the cap for a while
        clear(*victim);
        victim->id = id;
        return &*victim;
      }
    }
    if (spare.empty()) {
      lock.unlock();
      auto made = make_slot();
      if (made.empty()) return nullptr;
      lock.lock();
      slots.splice(slots.end(), made);
    } else {
      slots.splice(slots.end(), spare, spare.begin());
    }
    slots.back().id = id;
    update_want_spare_locked();
    return &slots.back();
  }

  /// Frees a session's context: cleared, it becomes the spare (or is freed if there is one).
  void release(std::list<session_slot>::iterator it) {
    std::list<session_slot> freed;
    std::lock_guard lock(mutex);
    if (spare.empty()) {
      clear(*it);
      it->id = {};
      spare.splice(spare.end(), slots, it);
    } else {
      freed.splice(freed.end(), slots, it);  // freed after the lock is released
    }
    update_want_spare_locked();
  }

  static void clear(session_slot& slot) {
    llama_memory_clear(llama_get_memory(slot.ctx), true);
    slot.kv.clear();
  }

  /// 0 on success, llama_decode's code otherwise (2 = aborted by the stop request).
  int decode(session_slot& slot, const llama_token* data, std::size_t n) {
    tokens copy(data, data + n);  // llama_batch_get_one takes a non-const pointer
    detail::set_decode_stop_flag(&slot.abort);  // an abort's error lines are not warnings
    const int rc = llama_decode(slot.ctx, llama_batch_get_one(copy.data(), static_cast<std::int32_t>(n)));
    detail::set_decode_stop_flag(nullptr);
    if (rc == 0) {
      slot.kv.insert(slot.kv.end(), data, data + n);
    } else {
      clear(slot);  // a failed or aborted batch leaves the cache in an unknown state
    }
    return rc;
  }

  // ---- one request ---------------------------------------------------------------------------

  void finish(job& j, status outcome) {
    j.abort_on_stop.reset();  // waits for a stop callback running right now
    if (j.slot != nullptr) {
      j.slot->busy = false;
      j.slot->abort.store(false, std::memory_order_release);
      j.slot->last_used = ++tick;
    }
    auto on_done = std::move(j.events.on_done);
    j.events = {};
    if (on_done) on_done(std::move(outcome));
  }

  /// Renders the request, dropping the oldest turns until it fits with room for the reply.
  result<tokens> fit_prompt(engine::chat_request& request, std::uint64_t& trimmed) const {
    auto& messages = request.messages;
    const int room = n_ctx - std::min(config.reserve_tokens, n_ctx / 2);
    for (;;) {
      tokens t = tokenize(render(messages, true));
      if (static_cast<int>(t.size()) <= room) return t;
      // The oldest message that is neither a system prompt nor the newest one.
      auto oldest = std::find_if(messages.begin(), messages.end() - 1,
                                 [](const engine::chat_message& m) { return m.role != engine::chat_role::system; });
      if (oldest == messages.end() - 1) {
        return make_error(errc::invalid_argument, "the prompt needs " + std::to_string(t.size()) +
                                                      " tokens; the context holds " + std::to_string(room) +
                                                      " with room for the reply");
      }
      messages.erase(oldest);
      ++trimmed;
    }
  }

  struct restored {
    std::size_t copied = 0;   // tokens whose KV state was copied in
    std::size_t decoded = 0;  // tokens decoded to compute a new saved state
  };

  /// Fills an empty context with the system prompt's saved KV state (computing and saving it
  /// the first time this model sees that system prompt).
  restored restore_system_prompt(job& j) {
    auto& slot = *j.slot;
    const auto& messages = j.request.messages;
    if (!slot.kv.empty() || messages.empty() || messages.front().role != engine::chat_role::system) return {};
    tokens prefix = tokenize(render({messages.front()}, false));
    if (prefix.empty() || prefix.size() >= j.prompt.size() || !starts_with(j.prompt, prefix)) return {};

    auto found = system_states.find(prefix);
    if (found != system_states.end()) {
      if (llama_state_seq_set_data(slot.ctx, found->second.data(), found->second.size(), 0) == 0) {
        clear(slot);
        return {};
      }
      slot.kv = prefix;
      return {.copied = prefix.size()};
    }
    // First time: decode it here (as part of this request's prompt) and keep its state.
    for (std::size_t at = 0; at < prefix.size(); at += static_cast<std::size_t>(config.batch_tokens)) {
      const std::size_t n = std::min<std::size_t>(config.batch_tokens, prefix.size() - at);
      if (decode(slot, prefix.data() + at, n) != 0) return {};
    }
    std::vector<std::uint8_t> state(llama_state_seq_get_size(slot.ctx, 0));
    state.resize(llama_state_seq_get_data(slot.ctx, state.data(), state.size(), 0));
    const std::size_t decoded = prefix.size();
    system_states.emplace(std::move(prefix), std::move(state));
    std::lock_guard lock(mutex);
    ++counters.system_states;
    counters.decoded_tokens += decoded;
    return {.decoded = decoded};
  }

  /// Prepares a waiting job: takes its session's context, renders the prompt and keeps the
  /// longest prefix already in the KV cache. False while the context is busy with another job.
  bool start(job& j) {
    const session_id id = j.request.context.session;
    for (const auto& s : slots) {
      if (s.id == id && s.busy) return false;
    }
    std::uint64_t trimmed = 0;
    auto prompt = fit_prompt(j.request, trimmed);
    if (!prompt) {
      finish(j, prompt.error());
      return true;
    }
    j.slot = slot_for(id);
    if (j.slot == nullptr) {
      finish(j, make_error(errc::engine_failure, "llama.cpp could not create a context of " +
                                                     std::to_string(n_ctx) + " tokens"));
      return true;
    }
    auto& slot = *j.slot;
    slot.busy = true;
    j.abort_on_stop.emplace(j.stop, std::function<void()>([&slot] { slot.abort.store(true, std::memory_order_release); }));
    j.prompt = std::move(*prompt);
    if (!config.reuse_kv) clear(slot);

    const restored system = config.reuse_kv ? restore_system_prompt(j) : restored{};
    std::size_t keep = common_prefix(slot.kv, j.prompt);
    if (keep == j.prompt.size()) --keep;  // the last prompt token must be decoded for its logits
    if (keep < slot.kv.size()) {
      if (!llama_memory_seq_rm(llama_get_memory(slot.ctx), 0, static_cast<llama_pos>(keep), -1)) {
        clear(slot);
        keep = 0;
      } else {
        slot.kv.resize(keep);
      }
    }
    j.next = keep;

    auto sp = llama_sampler_chain_default_params();
    sp.no_perf = true;
    j.sampler = llama_sampler_chain_init(sp);
    const double temperature = j.request.temperature.value_or(config.temperature);
    if (temperature <= 0.0) {
      llama_sampler_chain_add(j.sampler, llama_sampler_init_greedy());
    } else {
      llama_sampler_chain_add(j.sampler, llama_sampler_init_top_k(config.top_k));
      llama_sampler_chain_add(j.sampler, llama_sampler_init_top_p(static_cast<float>(config.top_p), 1));
      llama_sampler_chain_add(j.sampler, llama_sampler_init_min_p(static_cast<float>(config.min_p), 1));
      llama_sampler_chain_add(j.sampler, llama_sampler_init_temp(static_cast<float>(temperature)));
      llama_sampler_chain_add(j.sampler, llama_sampler_init_dist(config.seed));
    }
    j.max_tokens = j.request.max_tokens.value_or(config.default_max_tokens);
    j.at = job::phase::prompt;

    std::lock_guard lock(mutex);
    ++counters.requests;
    counters.prompt_tokens += j.prompt.size();
    counters.reused_tokens += keep - std::min(keep, system.decoded);
    counters.copied_tokens += system.copied;
    counters.trimmed_turns += trimmed;
    return true;
  }

  /// Advances a job by one step (a prompt chunk, or one reply token). True when it is done.
  bool step(job& j) {
    if (j.stop.stop_requested()) {
      finish(j, make_error(errc::cancelled, "cancelled"));
      return true;
    }
    if (j.at == job::phase::waiting) {
      if (!start(j)) return false;                // its session's context is busy
      return j.at == job::phase::waiting;         // still waiting: start() failed and finished it
    }
    auto& slot = *j.slot;
    if (j.at == job::phase::prompt) {
      const std::size_t n = std::min<std::size_t>(config.batch_tokens, j.prompt.size() - j.next);
      const int rc = decode(slot, j.prompt.data() + j.next, n);
      if (rc != 0) return fail_decode(j, rc);
      {
        std::lock_guard lock(mutex);
        counters.decoded_tokens += n;
      }
      j.next += n;
      if (j.next == j.prompt.size()) j.at = job::phase::generate;
      return false;
    }
    // generate: sample from the last decoded position, hand the text out, decode the token.
    const llama_token token = llama_sampler_sample(j.sampler, slot.ctx, -1);
    if (llama_vocab_is_eog(vocab, token) || j.generated >= j.max_tokens ||
        static_cast<int>(slot.kv.size()) >= n_ctx) {
      finish(j, {});
      return true;
    }
    ++j.generated;
    {
      std::lock_guard lock(mutex);
      ++counters.generated_tokens;
    }
    const std::string text = piece(token);
    if (!text.empty() && j.events.on_token) j.events.on_token(text);
    if (j.stop.stop_requested()) {
      finish(j, make_error(errc::cancelled, "cancelled"));
      return true;
    }
    const int rc = decode(slot, &token, 1);
    if (rc != 0) return fail_decode(j, rc);
    return false;
  }

  bool fail_decode(job& j, int rc) {
    if (rc == 2 || j.stop.stop_requested()) {
      finish(j, make_error(errc::cancelled, "cancelled"));
    } else {
      finish(j, make_error(errc::engine_failure, "llama_decode failed (" + std::to_string(rc) + ")"));
    }
    return true;
  }

  // ---- the worker -------------------------------------------------------------------------

  void run() {
    for (;;) {
      std::vector<session_id> forget;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !inbox.empty() || !forgotten.empty() || !active.empty(); });
        if (stopping) break;
        for (auto& j : inbox) active.push_back(std::move(j));
        inbox.clear();
        forget.swap(forgotten);
      }
      for (const session_id id : forget) {
        auto it = std::find_if(slots.begin(), slots.end(), [&](const session_slot& s) { return s.id == id; });
        if (it != slots.end() && !it->busy) release(it);
      }
      // One step for each active job, in arrival order (round robin across sessions).
      const std::size_t n = active.size();
      bool progressed = false;
      for (std::size_t i = 0; i < n; ++i) {
        auto j = std::move(active.front());
        active.pop_front();
        if (step(*j)) {
          progressed = true;
          continue;
        }
        progressed = progressed || j->at != job::phase::waiting;
        active.push_back(std::move(j));
      }
      if (!progressed && !active.empty()) {
        // Every job waits for a busy context (cannot happen without a running job; defensive).
        std::unique_lock lock(mutex);
        wake.wait_for(lock, std::chrono::milliseconds(5));
      }
    }
    // Shutting down: whatever is queued or running is cancelled.
    std::vector<std::unique_ptr<job>> left;
    {
      std::lock_guard lock(mutex);
      for (auto& j : inbox) left.push_back(std::move(j));
      inbox.clear();
    }
    for (auto& j : active) left.push_back(std::move(j));
    active.clear();
    for (auto& j : left) finish(*j, make_error(errc::cancelled, "the model is shutting down"));
  }

  /// Makes the spare context and runs a short prompt through it (weights paged in, threads
  /// started, buffers touched), so the first turn runs at the speed of the tenth.
  void warm_up() {
    auto made = make_slot();
    if (made.empty()) return;
    spare.splice(spare.end(), made);  // before the threads start: no lock needed
    auto& slot = spare.front();
    const tokens t = tokenize(render({{engine::chat_role::user, "Hello."}}, true));
    if (!t.empty()) (void)decode(slot, t.data(), std::min<std::size_t>(t.size(), 64));
    clear(slot);
  }
};

result<std::unique_ptr<llama_chat_model>> llama_chat_model::load(llama_config config) {
  if (config.batch_tokens < 1 || config.max_sessions < 1 || config.context_tokens < 0 ||
      config.default_max_tokens < 1 || config.reserve_tokens < 0) {
    return make_error(errc::invalid_argument, "llama: batch, sessions and max tokens must be positive");
  }
  auto loaded = detail::load_model(config.model_path);
  if (!loaded) return loaded.error();
  auto m = std::make_unique<impl>();
  m->config = std::move(config);
  m->model = *loaded;
  m->vocab = llama_model_get_vocab(m->model);
  const char* tmpl = llama_model_chat_template(m->model, nullptr);
  m->template_text = tmpl != nullptr ? tmpl : "chatml";
  m->model_name = m->config.model_path.stem().string();
  m->n_ctx = m->config.context_tokens > 0 ? m->config.context_tokens : llama_model_n_ctx_train(m->model);
  m->n_threads = m->config.threads > 0 ? m->config.threads
                                       : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  if (m->config.warm_up) m->warm_up();
  m->maker = std::thread([raw = m.get()] { raw->run_maker(); });
  m->worker = std::thread([raw = m.get()] { raw->run(); });
  return std::unique_ptr<llama_chat_model>(new llama_chat_model(std::move(m)));
}

result<std::string> llama_chat_model::devices() {
  detail::init_backend_once();
  std::string out;
  for (std::size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    out += (out.empty() ? "" : ", ") + std::string(ggml_backend_dev_name(dev)) + " (" +
           ggml_backend_dev_description(dev) + ")";
  }
  if (out.empty()) return make_error(errc::engine_failure, "no llama.cpp compute backend could be loaded");
  return out;
}

llama_chat_model::llama_chat_model(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
llama_chat_model::~llama_chat_model() = default;

std::string llama_chat_model::name() const { return "llama:" + impl_->model_name; }

engine::chat_caps llama_chat_model::caps() const { return {.streaming = true, .model = impl_->model_name}; }

void llama_chat_model::stream(engine::chat_request request, engine::chat_events events, std::stop_token stop) {
  if (request.messages.empty()) {
    if (events.on_done) events.on_done(make_error(errc::invalid_argument, "a chat request needs a message"));
    return;
  }
  auto j = std::make_unique<job>();
  j->request = std::move(request);
  j->events = std::move(events);
  j->stop = std::move(stop);
  {
    std::lock_guard lock(impl_->mutex);
    impl_->inbox.push_back(std::move(j));
  }
  impl_->wake.notify_one();
}

void llama_chat_model::forget_session(session_id session) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->forgotten.push_back(session);
  }
  impl_->wake.notify_one();
}

llama_stats llama_chat_model::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

std::string llama_chat_model::describe() const {
  char desc[128] = {};
  llama_model_desc(impl_->model, desc, sizeof desc);
  const double params = static_cast<double>(llama_model_n_params(impl_->model));
  std::ostringstream os;
  os.precision(3);
  os << desc << " · " << (params >= 1e9 ? params / 1e9 : params / 1e6) << (params >= 1e9 ? " B" : " M")
     << " params · ctx " << impl_->n_ctx << " · " << impl_->n_threads << " threads";
  return os.str();
}

}  // namespace parley::llama
