#include "parley/agent/budget.hpp"

#include <algorithm>
#include <cmath>

namespace parley::agent {

status validate(const latency_budgets& b, const filler_policy& f) {
  for (const double v : {b.llm_ttft_ms, b.tool_call_ms, b.asr_final_ms, b.tts_ttfb_ms, b.ttfa_ms, f.lead_ms}) {
    if (!std::isfinite(v) || v < 0.0) {
      return make_error(errc::invalid_argument, "latency budgets and the filler lead must be finite and >= 0 ms");
    }
  }
  return {};
}

std::string_view to_string(filler_kind kind) { return kind == filler_kind::tool ? "tool" : "waiting"; }

void budget_watch::llm_requested(time_point t) {
  if (!t_llm_request_) t_llm_request_ = t;
}

void budget_watch::first_token() { first_token_ = true; }

void budget_watch::tool_started(time_point t) {
  if (n_tools_running_++ == 0) t_tool_start_ = t;
}

void budget_watch::tool_finished() {
  if (n_tools_running_ == 0) return;
  if (--n_tools_running_ == 0) t_tool_start_.reset();
}

void budget_watch::reply_audio_started() { audio_started_ = true; }

std::optional<time_point> budget_watch::next_deadline() const {
  std::optional<time_point> out;
  const auto consider = [&](time_point t) { out = out ? std::min(*out, t) : t; };
  if (budgets_.llm_ttft_ms > 0.0 && t_llm_request_ && !first_token_ && !llm_breached_) {
    consider(*t_llm_request_ + from_ms(budgets_.llm_ttft_ms));
  }
  if (budgets_.tool_call_ms > 0.0 && t_tool_start_ && !tool_breached_) {
    consider(*t_tool_start_ + from_ms(budgets_.tool_call_ms));
  }
  return out;
}

std::optional<filler_kind> budget_watch::decide_filler(filler_kind kind) {
  if (!fillers_.enabled || audio_started_ || n_fillers_ >= fillers_.max_per_reply) return std::nullopt;
  ++n_fillers_;
  return kind;
}

std::vector<budget_breach> budget_watch::poll(time_point now) {
  std::vector<budget_breach> out;
  std::optional<time_point> llm_due, tool_due;
  if (budgets_.llm_ttft_ms > 0.0 && t_llm_request_ && !first_token_ && !llm_breached_) {
    llm_due = *t_llm_request_ + from_ms(budgets_.llm_ttft_ms);
    if (*llm_due > now) llm_due.reset();
  }
  if (budgets_.tool_call_ms > 0.0 && t_tool_start_ && !tool_breached_) {
    tool_due = *t_tool_start_ + from_ms(budgets_.tool_call_ms);
    if (*tool_due > now) tool_due.reset();
  }
  // Oldest first, so the filler goes with the breach that came first.
  const auto breach_llm = [&] {
    llm_breached_ = true;
    // A tool call running when the model's budget runs out is what the user waits for: say so.
    out.push_back({"llm_ttft", *llm_due, decide_filler(tool_running() ? filler_kind::tool : filler_kind::waiting)});
  };
  const auto breach_tool = [&] {
    tool_breached_ = true;
    out.push_back({"tool_call", *tool_due, decide_filler(filler_kind::tool)});
  };
  if (llm_due && tool_due && *tool_due < *llm_due) {
    breach_tool();
    breach_llm();
  } else {
    if (llm_due) breach_llm();
    if (tool_due) breach_tool();
  }
  return out;
}

std::vector<std::string_view> finished_breaches(const latency_budgets& budgets, const obs::turn_timeline& t) {
  std::vector<std::string_view> out;
  const std::pair<obs::metric, double> checks[] = {{obs::metric::asr_final, budgets.asr_final_ms},
                                                   {obs::metric::tts_ttfb, budgets.tts_ttfb_ms},
                                                   {obs::metric::ttfa, budgets.ttfa_ms}};
  for (const auto& [m, budget_ms] : checks) {
    if (budget_ms <= 0.0) continue;
    const auto v = t.value(m);
    const std::string_view stage = obs::to_string(m);
    if (v && *v > budget_ms && !t.has_note(obs::note_name::budget_breach, std::string(stage))) out.push_back(stage);
  }
  return out;
}

}  // namespace parley::agent
