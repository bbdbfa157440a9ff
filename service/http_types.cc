#include "service/http_types.h"

#include <strings.h>

#include "storage/sigv4.h"

namespace sy::service {

nlohmann::json parse_json_body(std::string_view body) {
  struct TooDeep {};
  const nlohmann::json::parser_callback_t stop_when_too_deep =
      [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
        if (depth > kMaxJsonDepth) throw TooDeep{};
        return true;
      };
  try {
    return nlohmann::json::parse(body, stop_when_too_deep);
  } catch (const TooDeep&) {
    throw JsonTooDeep("the JSON is nested deeper than " + std::to_string(kMaxJsonDepth) +
                                " levels");
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument("the body must be a JSON object");
  }
}

std::string_view Request::path() const {
  const std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  const std::string_view t = target;
  const auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::optional<std::string> Request::header(std::string_view lower_name) const {
  const auto it = headers.find(std::string(lower_name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::bearer_token() const {
  const auto auth = header("authorization");
  constexpr std::string_view kScheme = "bearer";
  if (!auth || auth->size() <= kScheme.size() ||
      strncasecmp(auth->data(), kScheme.data(), kScheme.size()) != 0 || (*auth)[kScheme.size()] != ' ')
    return std::nullopt;
  // RFC 9110 §11.4: one or more spaces between the scheme and the credentials.
  const auto start = auth->find_first_not_of(' ', kScheme.size());
  if (start == std::string::npos) return std::nullopt;
  return auth->substr(start);
}

std::optional<std::string> Request::param(std::string_view name) const {
  const auto params = storage::parse_query(query());
  if (!params) return std::nullopt;
  for (const auto& [k, v] : *params)
    if (k == name) return v;
  return std::nullopt;
}

void Response::set(std::string name, std::string value) {
  for (auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) {
      v = std::move(value);
      return;
    }
  headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return std::nullopt;
}

Response json_response(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.set("Content-Type", "application/json");
  return r;
}

Response error_response(int status, std::string code, std::string message) {
  return json_response(status, {{"error", {{"code", std::move(code)}, {"message", std::move(message)}}}});
}

}  // namespace sy::service
