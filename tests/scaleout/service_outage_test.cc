// Issue 11's outages at the service's edge, with real servers: `surroundyou serve` on the
// fixture's PostgreSQL while it is stopped, and on the fixture's Ceph RGW while the gateway is
// stopped. Calls that need what is away answer 503 `unavailable` with Retry-After within 2 s,
// /healthz stays 200, nothing half-written stays in the bucket, and everything works again
// once the server is back, without restarting `serve`. Runs alone (RUN_SERIAL): every other
// test on these servers would see the outage.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "storage/s3/s3_store.h"
#include "tests/support/api_client.h"
#include "tests/support/http_client.h"
#include "tests/support/postgres_restart.h"
#include "tests/support/postgres_schema.h"
#include "tests/support/process.h"
#include "tests/support/rgw_restart.h"
#include "tests/support/server_process.h"
#include "tests/support/rgw_env.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using sy::testing::HttpResponse;

std::string state_dir() {
  const char* state = std::getenv("SY_TEST_SCALEOUT_STATE");
  if (!state) throw std::runtime_error("SY_TEST_SCALEOUT_STATE is not set: run through ctest");
  return state;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A stereo sine as WAV bytes, made by the ffmpeg command-line tool.
std::string sine_wav(const sy::testing::TempDir& dir, int seconds) {
  const fs::path file = dir.path() / ("sine" + std::to_string(seconds) + ".wav");
  EXPECT_EQ(sy::testing::shell("ffmpeg -loglevel error -y -f lavfi -i sine=frequency=440:duration=" +
                               std::to_string(seconds) + " -ac 2 -ar 44100 " +
                               sy::testing::quote(file.string())),
            0);
  std::ifstream in(file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// `serve` with one render worker, its data and log in `dir`, on the backends `env` names;
// no rate limit on creating jobs (the tests create them faster than a person would).
sy::testing::ServeOptions serve_options(const sy::testing::TempDir& dir, std::map<std::string, std::string> env) {
  sy::testing::ServeOptions o;
  o.binary = SY_BINARY;
  o.data_dir = dir.path() / "data";
  o.log = dir.path() / "serve.log";
  o.workers = 1;
  o.env = std::move(env);
  o.env["SY_CREATE_PER_MINUTE"] = "0";
  return o;
}

sy::testing::HttpHeaders bearer(const sy::testing::CreatedJob& job) {
  return {{"Authorization", "Bearer " + job.token}};
}

// One call made while a server the API depends on is away: a clear 503 within 2 s.
void expect_unavailable_in_time(const std::string& what, const std::function<HttpResponse()>& call) {
  const auto started = Steady::now();
  const HttpResponse r = call();
  const double seconds = std::chrono::duration<double>(Steady::now() - started).count();
  EXPECT_EQ(r.status, 503) << what << ": " << r.body;
  EXPECT_LE(seconds, 2.5) << what << " held the request";
  EXPECT_FALSE(r.header("retry-after").empty()) << what;
  if (r.status == 503) {
    const auto body = r.json_body();
    EXPECT_EQ(body["error"]["code"], "unavailable") << what;
    // A sentence for people: neither the database's nor the store's words.
    const std::string message = body["error"]["message"];
    EXPECT_EQ(message.find("127.0.0.1"), std::string::npos) << message;
    EXPECT_EQ(message.find('/'), std::string::npos) << message;
  }
}

void expect_healthy_in_time(const sy::testing::ApiClient& api) {
  const auto started = Steady::now();
  EXPECT_EQ(api.call("GET", "/healthz").status, 200);
  EXPECT_LE(std::chrono::duration<double>(Steady::now() - started).count(), 2.0);
}

// A call retried until it gets `status`, for up to `patience` (the first calls after a
// server returned may still meet the connection the outage broke).
HttpResponse until_status(int status, std::chrono::seconds patience, const std::function<HttpResponse()>& call) {
  const auto end = Steady::now() + patience;
  HttpResponse r;
  while (Steady::now() < end) {
    r = call();
    if (r.status == status) return r;
    std::this_thread::sleep_for(250ms);
  }
  return r;
}

TEST(ServiceOutage, PostgresStoppedUnderServeAnswers503AndRecoversWithoutARestart) {
  const std::string pg = first_line(state_dir() + "/pg/url");
  ASSERT_FALSE(pg.empty()) << "PostgreSQL is not running";
  sy::testing::TempDir dir;
  sy::testing::ServerProcess server(serve_options(
      dir, {{"SY_QUEUE_BACKEND", "postgres"},
            {"SY_QUEUE_URL", sy::testing::url_with_fresh_schema(pg, "sy_svc_outage_" + std::to_string(::getpid()))},
            {"SY_QUEUE_DEADLINE_SECONDS", "1.5"},
            {"SY_LEASE_SECONDS", "5"}}));
  const sy::testing::ApiClient api(server.url(""));
  const std::string song = sine_wav(dir, 3);
  const auto before = api.create("before.wav", static_cast<std::int64_t>(song.size()));
  ASSERT_FALSE(before.id.empty());

  ::setenv("SY_TEST_PG_STATE", (state_dir() + "/pg").c_str(), 1);  // for PostgresRestart
  sy::testing::PostgresRestart database(pg);
  database.stop();
  const std::string create_body =
      nlohmann::json{{"filename", "during.wav"}, {"size", song.size()}}.dump();
  for (int round = 0; round < 2; ++round) {  // the first call finds the connection broken
    expect_unavailable_in_time("POST /api/v1/jobs", [&] {
      return api.call("POST", "/api/v1/jobs", create_body, {{"Content-Type", "application/json"}});
    });
    expect_unavailable_in_time("POST /uploaded", [&] {
      return api.call("POST", "/api/v1/jobs/" + before.id + "/uploaded", {}, bearer(before));
    });
    expect_unavailable_in_time("DELETE", [&] {
      return api.call("DELETE", "/api/v1/jobs/" + before.id, {}, bearer(before));
    });
    const auto started = Steady::now();
    EXPECT_EQ(api.call("GET", "/readyz").status, 503) << "not ready while the queue is away";
    EXPECT_LE(std::chrono::duration<double>(Steady::now() - started).count(), 2.5);
    expect_healthy_in_time(api);
  }
  database.start();

  // Everything works again, the server untouched: new jobs, the job made before the outage.
  const auto created = until_status(201, 20s, [&] {
    return api.call("POST", "/api/v1/jobs", create_body, {{"Content-Type", "application/json"}});
  });
  ASSERT_EQ(created.status, 201) << created.body << "\n" << server.log_tail();
  EXPECT_EQ(api.call("GET", "/readyz").status, 200);
  ASSERT_EQ(api.upload(before, song).status, 200);
  EXPECT_EQ(api.call("POST", "/api/v1/jobs/" + before.id + "/uploaded", {}, bearer(before)).status / 100, 2);
  const auto done = api.wait_final(before, 90s);
  EXPECT_EQ(done.value("status", ""), "done") << done.dump() << "\n" << server.log_tail();
  EXPECT_EQ(done.value("attempts", 0), 1);
  server.stop(SIGTERM);
}

TEST(ServiceOutage, TheS3GatewayStoppedMidFlowAnswers503LeavesNothingHalfWrittenAndRecovers) {
  const auto rgw = sy::testing::read_env_file(state_dir() + "/rgw/env");
  ASSERT_FALSE(rgw.count("RGW_ENDPOINT") == 0 || rgw.at("RGW_ENDPOINT").empty()) << "RGW is not running";
  const std::string bucket = "sy-outage-" + std::to_string(::getpid());
  sy::storage::S3ObjectStore bucket_view(sy::testing::rgw_store_options(rgw, bucket));
  bucket_view.ensure_bucket();

  sy::testing::TempDir dir;
  sy::testing::ServerProcess server(serve_options(dir, {{"SY_STORAGE_BACKEND", "s3"},
                                                        {"SY_S3_ENDPOINT", rgw.at("RGW_ENDPOINT")},
                                                        {"SY_S3_BUCKET", bucket},
                                                        {"SY_S3_PATH_STYLE", "true"},
                                                        {"SY_S3_ACCESS_KEY", rgw.at("RGW_ACCESS_KEY")},
                                                        {"SY_S3_SECRET_KEY", rgw.at("RGW_SECRET_KEY")},
                                                        {"SY_S3_CALL_DEADLINE_SECONDS", "1.5"},
                                                        {"SY_LEASE_SECONDS", "10"}}));
  const sy::testing::ApiClient api(server.url(""));

  // One job rendering when the gateway goes, one uploaded but not yet announced.
  const std::string long_song = sine_wav(dir, 60);
  const std::string short_song = sine_wav(dir, 3);
  const auto rendering = api.create("rendering.wav", static_cast<std::int64_t>(long_song.size()));
  const auto waiting = api.create("waiting.wav", static_cast<std::int64_t>(short_song.size()));
  ASSERT_EQ(api.upload(rendering, long_song).status, 200);
  ASSERT_EQ(api.upload(waiting, short_song).status, 200);
  ASSERT_EQ(api.call("POST", "/api/v1/jobs/" + rendering.id + "/uploaded", {}, bearer(rendering)).status / 100, 2);
  api.wait_for(rendering, [](const nlohmann::json& j) { return j.value("status", "") != "queued"; }, 60s);

  sy::testing::RgwRestart gateway(state_dir() + "/rgw", rgw.at("RGW_ENDPOINT"));
  gateway.stop();
  expect_unavailable_in_time("POST /uploaded", [&] {
    return api.call("POST", "/api/v1/jobs/" + waiting.id + "/uploaded", {}, bearer(waiting));
  });
  expect_healthy_in_time(api);
  std::this_thread::sleep_for(3s);  // the render meets the outage: its download or its upload
  const auto meanwhile = api.status(rendering).json_body();
  EXPECT_NE(meanwhile.value("status", ""), "failed") << "the store away is not the file's fault: "
                                                     << meanwhile.dump();
  gateway.start();

  const auto announced = until_status(200, 20s, [&] {
    return api.call("POST", "/api/v1/jobs/" + waiting.id + "/uploaded", {}, bearer(waiting));
  });
  EXPECT_EQ(announced.status / 100, 2) << announced.body;
  for (const auto* job : {&rendering, &waiting}) {
    const auto done = api.wait_final(*job, 120s);
    EXPECT_EQ(done.value("status", ""), "done") << done.dump() << "\n" << server.log_tail();
    EXPECT_EQ(done.value("attempts", 0), 1) << "the outage cost no attempt";
    // The result is whole: its size is what the job says, at PRODUCT.md's key.
    const auto results = bucket_view.list("processed/" + job->id + "/");
    ASSERT_EQ(results.size(), 1u);
    EXPECT_EQ(results[0].size, done["result"].value("bytes", std::int64_t{-1}));
  }
  EXPECT_TRUE(bucket_view.list("attempts/").empty()) << "no attempt's upload left behind";
  server.stop(SIGTERM);
  bucket_view.remove_prefix("");
}

}  // namespace
