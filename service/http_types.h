#pragma once
// Requests and responses as plain values: handlers map one to the other without sockets,
// so they are tested without a network; the session (server.cc) does the I/O.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace sy::service {

struct Request {
  std::string method;                          // "GET"
  std::string target;                          // as received: path and query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;                          // client address, for rate limits and logs
  std::string request_id;

  std::string_view path() const;               // target without the query
  std::string_view query() const;              // after '?', raw
  std::optional<std::string> header(std::string_view lower_name) const;
  // A decoded query parameter.
  std::optional<std::string> param(std::string_view name) const;
  // The credentials of an `Authorization: Bearer <token>` header, the scheme in any case
  // (RFC 9110 §11.1); nothing without one.
  std::optional<std::string> bearer_token() const;
};

// A byte range of a file for the session to stream.
struct FileBody {
  std::filesystem::path path;
  std::int64_t offset = 0;
  std::int64_t length = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string_view route = "other";  // route template for metrics and logs (routes.h)
  std::optional<FileBody> file;      // stream this instead of `body`
  bool head_only = false;            // HEAD: headers of the GET, no body

  void set(std::string name, std::string value);
  std::optional<std::string> header(std::string_view name) const;
};

// Deeper JSON is refused: our bodies nest three levels, while nlohmann's copy, comparison and
// dump recurse once a level, and 256 KiB of brackets is 130,000 levels: past a thread's stack.
inline constexpr int kMaxJsonDepth = 32;
struct JsonTooDeep : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// A request body parsed as JSON. Throws std::invalid_argument with a sentence for a client
// when it is not JSON, JsonTooDeep when it nests deeper than kMaxJsonDepth (reading stops
// at that depth).
nlohmann::json parse_json_body(std::string_view body);

Response json_response(int status, const nlohmann::json& body);
// {"error":{"code","message"}} with the status.
Response error_response(int status, std::string code, std::string message);

}  // namespace sy::service
