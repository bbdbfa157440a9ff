#pragma once
// The job API as the web page and scripts use it (PRODUCT.md): create a job, PUT the file to
// its presigned URL, follow its status. Shared by the end-to-end suites on one node and
// scaled out.
#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tests/support/http_client.h"

namespace sy::testing {

struct CreatedJob {
  std::string id, token;
  std::string upload_url;     // presigned: the embedded store or the S3 bucket
  HttpHeaders upload_headers;  // to send with the PUT
};

class ApiClient {
 public:
  explicit ApiClient(std::string base_url) : base_(std::move(base_url)) {}

  // http://host:port<path>
  std::string url(const std::string& path) const { return base_ + path; }
  HttpResponse call(const std::string& method, const std::string& path, std::string_view body = {},
                    const HttpHeaders& headers = {}) const {
    return http_request(method, url(path), body, headers);
  }

  // POST /api/v1/jobs; a test failure unless the API answers 201.
  CreatedJob create(const std::string& filename, std::int64_t size,
                    const nlohmann::json& settings = nlohmann::json::object()) const;
  // PUT to the job's upload URL, as handed out.
  HttpResponse upload(const CreatedJob& job, std::string_view bytes) const;
  HttpResponse status(const CreatedJob& job) const;
  // Polls the job's status every `poll` until `done` holds for it; a test failure after
  // `timeout`. Calls that get no answer (a server restarting) are retried.
  nlohmann::json wait_for(const CreatedJob& job,
                          const std::function<bool(const nlohmann::json&)>& done,
                          std::chrono::seconds timeout,
                          std::chrono::milliseconds poll = std::chrono::milliseconds(20)) const;
  // Until done, failed or expired, polling every 100 ms: renders take seconds.
  nlohmann::json wait_final(const CreatedJob& job, std::chrono::seconds timeout) const;

 private:
  std::string base_;
};

}  // namespace sy::testing
