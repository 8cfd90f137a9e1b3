// apps/bench_gate — implementation. See bench_gate.hpp.
#include "parley/apps/bench_gate.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace parley::app {

namespace {

std::optional<double> number_at(const nlohmann::json& j, const std::string& a, const std::string& b, const std::string& c) {
  const auto ia = j.find(a);
  if (ia == j.end() || !ia->is_object()) return std::nullopt;
  const auto ib = ia->find(b);
  if (ib == ia->end() || !ib->is_object()) return std::nullopt;
  const auto ic = ib->find(c);
  if (ic == ib->end() || !ic->is_number()) return std::nullopt;
  return ic->get<double>();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

}  // namespace

std::map<std::string, double> tracked_figures(const nlohmann::json& report) {
  std::map<std::string, double> out;
  for (const char* mode : {"streaming", "sequential"}) {
    for (const char* metric : {"ttfa", "overhead"}) {
      for (const char* p : {"p50", "p95", "p99"}) {
        if (auto v = number_at(report, mode, metric, p)) out[std::string(mode) + "." + metric + "." + p] = *v;
      }
    }
  }
  for (const char* p : {"p50", "p95"}) {
    const auto s = number_at(report, "streaming", "ttfa", p);
    const auto q = number_at(report, "sequential", "ttfa", p);
    if (s && q && *q > 0) out[std::string("ratio.ttfa_") + p] = *s / *q;
  }
  return out;
}

result<nlohmann::json> record_gate(const std::vector<nlohmann::json>& reports, double min_tolerance) {
  if (reports.size() < 2) return make_error(errc::invalid_argument, "a gate baseline needs at least 2 runs (their spread sets the tolerance)");
  std::map<std::string, std::vector<double>> runs;
  for (const auto& r : reports) {
    for (const auto& [name, value] : tracked_figures(r)) runs[name].push_back(value);
  }
  if (runs.empty()) return make_error(errc::invalid_argument, "the runs have no tracked figure (ttfa, overhead)");
  nlohmann::json tracked = nlohmann::json::object();
  for (const auto& [name, values] : runs) {
    if (values.size() != reports.size()) {
      return make_error(errc::invalid_argument, "'" + name + "' was measured in only some of the runs");
    }
    const double m = median(values);
    double spread = 0.0;
    if (m > 0) {
      for (double v : values) spread = std::max(spread, std::abs(v - m) / m);
    }
    tracked[name] = {{"value", m}, {"tolerance", std::max(min_tolerance, 2.0 * spread)}, {"runs", values}};
  }
  return nlohmann::json{{"gate", {{"runs", reports.size()}, {"min_tolerance", min_tolerance}, {"tracked", tracked}}}};
}

result<gate_verdict> check_gate(const nlohmann::json& baseline, const nlohmann::json& report) {
  const auto gate = baseline.find("gate");
  if (gate == baseline.end() || !gate->is_object() || !gate->contains("tracked") || !(*gate)["tracked"].is_object() ||
      (*gate)["tracked"].empty()) {
    return make_error(errc::invalid_argument,
                      "the baseline has no gate.tracked figures (write one with parley bench --gate-record FILE)");
  }
  const auto now = tracked_figures(report);
  gate_verdict verdict{.ok = true};
  for (const auto& [name, spec] : (*gate)["tracked"].items()) {
    if (!spec.is_object() || !spec.contains("value") || !spec["value"].is_number() ||
        (spec.contains("tolerance") && !spec["tolerance"].is_number())) {
      return make_error(errc::invalid_argument, "baseline gate.tracked." + name + ": needs a number `value` (and `tolerance`)");
    }
    gate_row row;
    row.name = name;
    row.baseline = spec["value"].get<double>();
    row.tolerance = spec.value("tolerance", k_default_gate_tolerance);
    row.limit = row.baseline * (1.0 + row.tolerance);
    if (const auto it = now.find(name); it != now.end()) row.now = it->second;
    row.ok = row.now && *row.now <= row.limit;
    verdict.ok = verdict.ok && row.ok;
    verdict.rows.push_back(std::move(row));
  }
  return verdict;
}

std::string render_gate(const gate_verdict& verdict) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3);
  out << std::left << std::setw(28) << "figure" << std::right << std::setw(12) << "baseline" << std::setw(11) << "tolerance"
      << std::setw(12) << "limit" << std::setw(12) << "now" << "  verdict\n";
  for (const auto& r : verdict.rows) {
    out << std::left << std::setw(28) << r.name << std::right << std::setw(12) << r.baseline << std::setw(10)
        << std::setprecision(1) << r.tolerance * 100 << "%" << std::setprecision(3) << std::setw(12) << r.limit;
    if (r.now) {
      out << std::setw(12) << *r.now;
    } else {
      out << std::setw(12) << "-";
    }
    out << "  " << (r.ok ? "ok" : r.now ? "WORSE" : "NOT MEASURED") << "\n";
  }
  return out.str();
}

}  // namespace parley::app
