#pragma once
// The API with a real SQLite queue and the embedded store in a temporary folder, and the
// requests a session would hand it: shared by the API's tests of each resource.
#include <gtest/gtest.h>

#include "tests/support/local_store.h"
#include "tests/support/temp_dir.h"
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "queue/sqlite/sqlite_queue.h"
#include "service/api.h"
#include "storage/local/local_store.h"

namespace sy::service {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = tmp.path();
    queue = std::make_unique<queue::SqliteJobQueue>(dir / "queue.db");
    store = testing::local_store(dir / "store", "http://127.0.0.1:8080",
                                 {"surroundyou", "test-secret", "us-east-1", "s3"});
    options.cors_origins = {"https://app.example"};
    options.s3_events_secret = "events-secret";
    options.max_upload_bytes = 1 << 20;
    options.create_per_minute = 0;  // JobCreationIsRateLimitedPerClient turns it on
    make_api();
  }

  void make_api() {
    ApiHooks hooks;
    hooks.job_queued = [this] { ++queued_hooks; };
    hooks.job_deleted = [this](const std::string& id) { deleted.push_back(id); };
    api = std::make_unique<Api>(options, *queue, *store, store.get(), metrics, hooks);
    store->set_object_created_handler([this](const storage::ObjectCreated& e) { api->on_object_created(e); });
  }

  static Request req(std::string method, std::string target, std::string body = {},
                     std::map<std::string, std::string> headers = {}) {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.headers.emplace("host", "127.0.0.1:8080");
    r.remote = "10.0.0.1";
    r.request_id = "test";
    return r;
  }
  static nlohmann::json body_of(const Response& r) { return nlohmann::json::parse(r.body); }
  static void expect_error_shape(const Response& r, int status, const std::string& code = {}) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto j = nlohmann::json::parse(r.body);
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_TRUE(j["error"]["code"].is_string());
    EXPECT_TRUE(j["error"]["message"].is_string());
    if (!code.empty()) {
      EXPECT_EQ(j["error"]["code"], code);
    }
  }
  static std::string target_of(const std::string& url) {
    return url.substr(url.find('/', std::string("http://").size()));
  }

  struct Created {
    std::string id, token, upload_url;
  };
  Created create(std::int64_t size = 1000, const std::string& name = "My Song.mp3") {
    const auto r = api->handle(req("POST", "/api/v1/jobs", nlohmann::json{{"filename", name}, {"size", size}}.dump()));
    EXPECT_EQ(r.status, 201) << r.body;
    const auto j = body_of(r);
    return {j["id"], j["token"], j["upload"]["url"]};
  }
  // Streams `bytes` through the upload path, as the session does.
  Response upload(const Created& c, const std::string& bytes, std::int64_t content_length = -1) {
    auto r = req("PUT", target_of(c.upload_url), {},
                 {{"content-length", std::to_string(content_length < 0 ? bytes.size() : static_cast<std::size_t>(content_length))}});
    const auto match = api->route(r);
    auto opened = api->open_upload(r, match);
    if (auto* refused = std::get_if<Response>(&opened)) return *refused;
    auto& up = std::get<Upload>(opened);
    EXPECT_TRUE(up.sink->write(bytes.data(), bytes.size()));
    up.sink->commit();
    return api->finish_upload(r, match, up);
  }
  // `bytes` put into the store past the API, with no object-created event (as if it got lost):
  // the job still awaits its upload until something tells the API.
  void upload_unannounced(const Created& c, const std::string& bytes) {
    store->set_object_created_handler({});
    const std::filesystem::path src = dir / "unannounced.bin";
    { std::ofstream(src) << bytes; }
    store->upload_from_file(queue->get(c.id)->upload_key, src);
  }
  // The answer to a PUT refused before its body, or nullopt when it may stream.
  std::optional<Response> refusal(const Request& r) {
    auto opened = api->open_upload(r, api->route(r));
    if (auto* refused = std::get_if<Response>(&opened)) return *refused;
    return std::nullopt;
  }
  Response get_job(const std::string& id, const std::string& token) {
    return api->handle(req("GET", "/api/v1/jobs/" + id, {}, {{"authorization", "Bearer " + token}}));
  }

  testing::TempDir tmp;  // first, so it goes last, after the queue and store in it
  std::filesystem::path dir;
  std::unique_ptr<queue::SqliteJobQueue> queue;
  std::unique_ptr<storage::LocalObjectStore> store;
  Metrics metrics;
  ApiOptions options;
  std::unique_ptr<Api> api;
  int queued_hooks = 0;
  std::vector<std::string> deleted;
};

}  // namespace sy::service
