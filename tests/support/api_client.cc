#include "tests/support/api_client.h"

#include <gtest/gtest.h>

#include <thread>

namespace sy::testing {

using json = nlohmann::json;

CreatedJob ApiClient::create(const std::string& filename, std::int64_t size,
                             const json& settings) const {
  json body{{"filename", filename}, {"size", size}};
  if (!settings.empty()) body["settings"] = settings;
  const auto r = call("POST", "/api/v1/jobs", body.dump(), {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return {};
  const auto j = r.json_body();
  CreatedJob job{j["id"], j["token"], j["upload"]["url"], {}};
  for (const auto& [k, v] : j["upload"]["headers"].items())
    job.upload_headers.emplace_back(k, v.get<std::string>());
  return job;
}

HttpResponse ApiClient::upload(const CreatedJob& job, std::string_view bytes) const {
  return http_request("PUT", job.upload_url, bytes, job.upload_headers);
}

HttpResponse ApiClient::status(const CreatedJob& job) const {
  return call("GET", "/api/v1/jobs/" + job.id, {}, {{"Authorization", "Bearer " + job.token}});
}

json ApiClient::wait_for(const CreatedJob& job, const std::function<bool(const json&)>& done,
                         std::chrono::seconds timeout, std::chrono::milliseconds poll) const {
  const auto end = std::chrono::steady_clock::now() + timeout;
  json j;
  while (std::chrono::steady_clock::now() < end) {
    try {
      const auto r = status(job);
      if (r.status == 200) {
        j = r.json_body();
        if (done(j)) return j;
      }
    } catch (const std::exception&) {  // no answer: the server is restarting
    }
    std::this_thread::sleep_for(poll);
  }
  ADD_FAILURE() << "job " << job.id << " did not get there in " << timeout.count()
                << " s: " << j.dump();
  return j;
}

json ApiClient::wait_final(const CreatedJob& job, std::chrono::seconds timeout) const {
  return wait_for(
      job,
      [](const json& j) {
        const std::string s = j.value("status", "");
        return s == "done" || s == "failed" || s == "expired";
      },
      timeout, std::chrono::milliseconds(100));
}

}  // namespace sy::testing
