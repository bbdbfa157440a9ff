#pragma once
// The one HTTP client of the tests, on libcurl: what a browser or script sends, to our server
// or to an S3 endpoint, by URL. Requests go out as written (no path normalisation, no
// Content-Type or Expect the caller did not ask for), so hostile requests stay hostile.
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_case_name) const;
  nlohmann::json json_body() const { return nlohmann::json::parse(body); }
};

// Throws std::runtime_error when no HTTP answer arrives (refused, reset, timed out).
HttpResponse http_request(const std::string& method, const std::string& url,
                          std::string_view body = {}, const HttpHeaders& headers = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// A GET whose body is handed to `on_data` as it arrives, until `on_data` returns false, the
// server ends it or `timeout` passes (Server-Sent Events). The response holds status and
// headers; its body stays empty.
HttpResponse http_stream(const std::string& url, const HttpHeaders& headers,
                         std::chrono::seconds timeout,
                         const std::function<bool(std::string_view)>& on_data);

// The path and query of a URL ("/store/a?X-Amz-..." from "http://host:port/store/a?X-Amz-...").
std::string target_of(const std::string& url);

// A loopback TCP port nobody listens on right now.
unsigned short free_port();

}  // namespace sy::testing
