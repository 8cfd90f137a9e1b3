#include "parley/engines/intents/time_of_day.hpp"

#include <charconv>
#include <ctime>
#include <optional>
#include <string>

#include "parley/text/spoken.hpp"

namespace parley::intents {
namespace {

std::chrono::sys_days to_days(const civil_time& t) {
  return std::chrono::sys_days(std::chrono::year(t.year) / std::chrono::month(static_cast<unsigned>(t.month)) /
                               std::chrono::day(static_cast<unsigned>(t.day)));
}

/// "+05:30", "-5", "+0530", "2" → minutes east of UTC.
std::optional<int> parse_offset(std::string_view s) {
  if (s.empty()) return 0;
  int sign = 1;
  if (s.front() == '+' || s.front() == '-') {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int hours = 0;
  int minutes = 0;
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c != ':') return std::nullopt;
  }
  if (digits.empty() || digits.size() > 4) return std::nullopt;
  if (digits.size() <= 2) {
    hours = std::stoi(digits);
  } else {
    hours = std::stoi(digits.substr(0, digits.size() - 2));
    minutes = std::stoi(digits.substr(digits.size() - 2));
  }
  if (hours > 14 || minutes >= 60) return std::nullopt;
  return sign * (hours * 60 + minutes);
}

}  // namespace

int weekday_of(const civil_time& t) {
  return static_cast<int>(std::chrono::weekday(to_days(t)).c_encoding());
}

civil_time add_days(const civil_time& t, int n_days) {
  const std::chrono::year_month_day ymd(to_days(t) + std::chrono::days(n_days));
  civil_time out = t;
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  out.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  return out;
}

std::string_view weekday_name(int weekday) {
  return text::weekday_name(static_cast<unsigned>((weekday % 7 + 7) % 7));
}

std::string_view month_name(int month) {
  return text::month_name(static_cast<unsigned>(((month - 1) % 12 + 12) % 12 + 1));
}

result<std::unique_ptr<system_time_of_day>> system_time_of_day::create(std::string_view timezone) {
  if (timezone.empty() || timezone == "local") {
    return std::unique_ptr<system_time_of_day>(new system_time_of_day(true, 0));
  }
  std::string_view rest = timezone;
  if (rest.starts_with("UTC") || rest.starts_with("GMT")) rest.remove_prefix(3);
  else if (rest == "Z") rest = {};
  else if (rest.empty() || (rest.front() != '+' && rest.front() != '-')) rest = "?";
  if (auto offset = parse_offset(rest)) {
    return std::unique_ptr<system_time_of_day>(new system_time_of_day(false, *offset));
  }
  return make_error(errc::invalid_argument,
                    "unsupported time zone '" + std::string(timezone) +
                        "': use \"\" for the local zone or a fixed offset such as \"UTC+01:00\"");
}

civil_time system_time_of_day::now() const {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  if (local_) {
    localtime_r(&t, &tm);
  } else {
    t += static_cast<std::time_t>(offset_minutes_) * 60;
    gmtime_r(&t, &tm);
  }
  return civil_time{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

}  // namespace parley::intents
