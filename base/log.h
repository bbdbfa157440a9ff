#pragma once
// Structured logs: one JSON object per line ({"ts","level","msg",...fields}) through spdlog,
// so request and job ids can be searched and aggregated.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <string_view>

namespace sy::base::log {

// Switches spdlog's default logger to JSON lines in UTC, on stderr (spdlog's own default writes
// to stdout, which belongs to a command's results).
inline void use_json_lines() {
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("surroundyou", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                      spdlog::pattern_time_type::utc);
}

inline void event(spdlog::level::level_enum level, std::string_view msg,
                  nlohmann::json fields = nlohmann::json::object()) {
  if (!spdlog::should_log(level)) return;
  fields["msg"] = msg;
  const std::string body = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  spdlog::log(level, "{}", std::string_view(body).substr(1, body.size() - 2));
}

inline void info(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  event(spdlog::level::info, msg, std::move(fields));
}
inline void warn(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  event(spdlog::level::warn, msg, std::move(fields));
}
inline void error(std::string_view msg, nlohmann::json fields = nlohmann::json::object()) {
  event(spdlog::level::err, msg, std::move(fields));
}

}  // namespace sy::base::log
