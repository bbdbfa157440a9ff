// The scaled-out platform against real servers: PostgreSQL (queue) and Ceph RGW (S3 with
// signature checks and bucket notifications), `surroundyou serve --workers 0` as the API and
// `surroundyou worker` processes doing the rendering.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "queue/postgres/postgres_queue.h"
#include "service/janitor.h"
#include "storage/s3/s3_signer.h"
#include "storage/s3/s3_store.h"
#include "tests/support/api_client.h"
#include "tests/support/http_client.h"
#include "tests/support/postgres_schema.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/rgw_env.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using nlohmann::json;

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

using sy::testing::http_request;
using sy::testing::HttpHeaders;
using sy::testing::HttpResponse;

// A SigV4-signed call to RGW's SNS API (topics are not part of S3 proper).
HttpResponse sns_call(const std::map<std::string, std::string>& rgw,
                      const std::vector<std::pair<std::string, std::string>>& params) {
  std::string form;
  for (const auto& [k, v] : params)
    form += (form.empty() ? "" : "&") + sy::storage::uri_encode(k, false) + "=" +
            sy::storage::uri_encode(v, false);
  const std::string endpoint = rgw.at("RGW_ENDPOINT");
  sy::storage::HeaderSignInput in;
  in.method = "POST";
  in.host = endpoint.substr(endpoint.find("://") + 3);
  in.path = "/";
  in.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  in.payload_hash = sy::storage::sha256_hex(form);
  in.time = std::chrono::system_clock::now();
  in.add_content_sha256 = false;
  const sy::storage::SigV4Credentials creds{rgw.at("RGW_ACCESS_KEY"), rgw.at("RGW_SECRET_KEY"),
                                            "us-east-1", "sns"};
  HttpHeaders headers;
  for (const auto& [k, v] : sy::storage::sign_headers(creds, in))
    if (k != "host") headers.emplace_back(k, v);
  return http_request("POST", endpoint + "/", form, headers);
}

HttpResponse s3_signed(const std::map<std::string, std::string>& rgw, const std::string& method,
                       const std::string& path, const std::string& query, const std::string& body) {
  const std::string endpoint = rgw.at("RGW_ENDPOINT");
  sy::storage::HeaderSignInput in;
  in.method = method;
  in.host = endpoint.substr(endpoint.find("://") + 3);
  in.path = path;
  in.query = *sy::storage::parse_query(query);
  in.payload_hash = sy::storage::sha256_hex(body);
  in.time = std::chrono::system_clock::now();
  const sy::storage::SigV4Credentials creds{rgw.at("RGW_ACCESS_KEY"), rgw.at("RGW_SECRET_KEY"),
                                            "us-east-1", "s3"};
  HttpHeaders headers;
  for (const auto& [k, v] : sy::storage::sign_headers(creds, in))
    if (k != "host") headers.emplace_back(k, v);
  return http_request(method, endpoint + path + (query.empty() ? "" : "?" + query), body, headers);
}

// ---- the fixture: one schema, one bucket, a topic pointing at our API ----------------------

class ScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* state = std::getenv("SY_TEST_SCALEOUT_STATE");
    ASSERT_TRUE(state) << "run through ctest (fixtures postgres and rgw)";
    rgw_ = sy::testing::read_env_file(std::string(state) + "/rgw/env");
    ASSERT_FALSE(rgw_["RGW_ENDPOINT"].empty()) << "RGW is not running";
    const std::string pg = first_line(std::string(state) + "/pg/url");
    ASSERT_FALSE(pg.empty()) << "PostgreSQL is not running";
    const std::string tag =
        std::to_string(::getpid()) + "-" +
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::string lower;
    for (char ch : tag) lower.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '-');
    bucket_ = "sy-" + lower.substr(0, 50);
    queue_url_ = sy::testing::url_with_fresh_schema(pg, "sy_" + std::to_string(::getpid()));

    store_ = std::make_unique<sy::storage::S3ObjectStore>(s3_options());
    store_->ensure_bucket();
    api_port_ = sy::testing::free_port();
    client_ = sy::testing::ApiClient("http://127.0.0.1:" + std::to_string(api_port_));
    secret_ = "events-secret-of-the-scaleout-test-" + std::to_string(::getpid());
    // Persistent (what docs/SCALING.md recommends): RGW keeps the notification and retries
    // until our API takes it. RGW 16 starts delivering a new persistent topic's queue only at
    // its next queue-list refresh, a fixed 30 s period (Q_LIST_UPDATE_MSEC in rgw_notify.cc),
    // so the first upload's notification comes 0-30 s late; later ones come in ~0.1 s.
    // Tests that are not about the notification itself use a synchronous topic (RGW pushes
    // before it answers the PUT; same event JSON) and do not wait for that refresh.
    // RGW keeps a tenant's topics in one object: two tests creating topics at once can lose
    // one, so (re)create the topic until the bucket's configuration finds it.
    HttpResponse put;
    for (int i = 0; i < 10; ++i) {
      const auto topic = sns_call(
          rgw_, {{"Action", "CreateTopic"},
                 {"Name", bucket_},
                 {"Attributes.entry.1.key", "push-endpoint"},
                 {"Attributes.entry.1.value", "http://127.0.0.1:" + std::to_string(api_port_) +
                                                  "/api/v1/events/s3?secret=" + secret_},
                 {"Attributes.entry.2.key", "persistent"},
                 {"Attributes.entry.2.value", persistent_topic_ ? "true" : "false"}});
      ASSERT_EQ(topic.status, 200) << topic.body;
      const auto arns = sy::storage::xml_values(topic.body, "TopicArn");
      ASSERT_FALSE(arns.empty()) << topic.body;
      const std::string config =
          "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
          "<TopicConfiguration><Id>uploads</Id><Topic>" + arns.front() + "</Topic>"
          "<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name>"
          "<Value>uploads/</Value></FilterRule></S3Key></Filter></TopicConfiguration>"
          "</NotificationConfiguration>";
      put = s3_signed(rgw_, "PUT", "/" + bucket_, "notification", config);
      if (put.status != 404 && put.status < 500) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + 150 * i));
    }
    ASSERT_EQ(put.status, 200) << put.body;
  }

  sy::storage::S3Options s3_options() const {
    return sy::testing::rgw_store_options(rgw_, bucket_);
  }

  std::map<std::string, std::string> env() const {
    return {{"SY_QUEUE_BACKEND", "postgres"},
            {"SY_QUEUE_URL", queue_url_},
            {"SY_STORAGE_BACKEND", "s3"},
            {"SY_S3_ENDPOINT", rgw_.at("RGW_ENDPOINT")},
            {"SY_S3_BUCKET", bucket_},
            {"SY_S3_PATH_STYLE", "true"},
            {"SY_S3_ACCESS_KEY", rgw_.at("RGW_ACCESS_KEY")},
            {"SY_S3_SECRET_KEY", rgw_.at("RGW_SECRET_KEY")},
            {"SY_S3_EVENTS_SECRET", secret_},
            {"SY_LEASE_SECONDS", "3"},
            {"SY_CREATE_PER_MINUTE", "0"},
            {"SY_JANITOR_SECONDS", "3600"}};
  }

  std::unique_ptr<sy::testing::ServerProcess> start_api() {
    sy::testing::ServeOptions o;
    o.binary = SY_BINARY;
    o.data_dir = dir_.path() / "api-data";
    o.log = dir_.path() / "api.log";
    o.workers = 0;
    o.port = api_port_;  // the bucket's topic pushes its notifications here
    o.env = env();
    return std::make_unique<sy::testing::ServerProcess>(std::move(o));
  }

  std::unique_ptr<sy::testing::ChildProcess> start_worker(int n) {
    return std::make_unique<sy::testing::ChildProcess>(
        std::vector<std::string>{SY_BINARY, "worker"}, env(),
        dir_.path() / ("worker" + std::to_string(n) + ".log"));
  }

  std::string api(const std::string& path) const { return client_.url(path); }

  // A short song: a tone with a beat, as MP3.
  std::string song(double seconds) {
    const std::string path = dir_.file("song" + std::to_string(static_cast<int>(seconds)) + ".mp3");
    if (!fs::exists(path)) {
      EXPECT_EQ(sy::testing::shell("ffmpeg -v error -y -f lavfi -i 'sine=f=440:d=" +
                                   std::to_string(seconds) + "' -ac 2 -b:a 128k " + path),
                0);
    }
    return sy::testing::read_file(path);
  }

  using Created = sy::testing::CreatedJob;
  Created create_job(const std::string& name, std::size_t size) {
    return client_.create(name, static_cast<std::int64_t>(size));
  }
  int upload(const Created& job, const std::string& bytes) { return client_.upload(job, bytes).status; }
  json status(const Created& job) {
    const auto res = client_.status(job);
    return res.status == 200 ? res.json_body() : json{{"http", res.status}};
  }
  json wait_done(const Created& job, std::chrono::seconds timeout) {
    return client_.wait_final(job, timeout);
  }

  bool persistent_topic_ = true;  // set in a derived fixture's constructor, before SetUp
  sy::testing::TempDir dir_;
  std::map<std::string, std::string> rgw_;
  std::string bucket_, queue_url_, secret_;
  unsigned short api_port_ = 0;
  sy::testing::ApiClient client_{""};
  std::unique_ptr<sy::storage::S3ObjectStore> store_;
};

TEST_F(ScaleOut, BrowserUploadNotificationWorkerAndPresignedDownload) {
  const std::string bytes = song(6);
  auto api_server = start_api();
  auto worker = start_worker(1);
  const auto job = create_job("Song é (live).mp3", bytes.size());
  const std::string url = job.upload_url;
  EXPECT_EQ(url.rfind(rgw_.at("RGW_ENDPOINT") + "/" + bucket_ + "/uploads/" + job.id + "/", 0), 0u)
      << "the browser uploads straight to the bucket: " << url;
  EXPECT_EQ(status(job)["status"], "awaiting_upload");

  ASSERT_EQ(upload(job, bytes), 200);
  // Nobody calls /uploaded: the bucket notification queues the job.
  const auto done = wait_done(job, 60s);
  ASSERT_EQ(done.value("status", ""), "done") << done.dump() << "\n" << api_server->log_tail()
                                              << worker->log_tail();
  EXPECT_EQ(done["attempts"], 1);

  const std::string result_url = done["result"]["url"];
  // PRODUCT.md's key, processed/<job-id>/<name> (8D).<ext>.
  EXPECT_EQ(result_url.rfind(rgw_.at("RGW_ENDPOINT") + "/" + bucket_ + "/processed/" + job.id + "/", 0), 0u);
  EXPECT_EQ(store_->list("processed/" + job.id + "/").at(0).key.find('/', 10 + job.id.size() + 1),
            std::string::npos) << "no attempt segment";
  const auto got = http_request("GET", result_url);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(static_cast<std::int64_t>(got.body.size()), done["result"]["bytes"].get<std::int64_t>());
  const std::string out = dir_.file("result.mp3");
  std::ofstream(out, std::ios::binary) << got.body;
  const double seconds = static_cast<double>(sy::testing::decoded_samples(out)) / 44100.0;
  EXPECT_NEAR(seconds, 6.0, 0.1) << "the result decodes and keeps the length";

  // The bucket and the queue agree: one result object for the job.
  EXPECT_EQ(store_->list("processed/" + job.id + "/").size(), 1u);
  EXPECT_TRUE(store_->list("attempts/" + job.id + "/").empty()) << "the attempt's upload was moved";

  // A replayed notification does no work twice; an unknown key is ignored and counted.
  const std::string key = store_->list("uploads/" + job.id + "/").at(0).key;
  const json event{{"Records", {{{"eventName", "ObjectCreated:Put"},
                                 {"s3", {{"bucket", {{"name", bucket_}}},
                                         {"object", {{"key", sy::storage::uri_encode(key, true)},
                                                     {"size", bytes.size()}}}}}}}}};
  const json unknown{{"Records", {{{"eventName", "ObjectCreated:Put"},
                                   {"s3", {{"bucket", {{"name", bucket_}}},
                                           {"object", {{"key", "uploads/nobody/x.mp3"}, {"size", 5}}}}}}}}};
  EXPECT_EQ(http_request("POST", api("/api/v1/events/s3"), event.dump()).status, 401) << "no secret";
  EXPECT_EQ(http_request("POST", api("/api/v1/events/s3?secret=" + secret_), event.dump()).status, 200);
  EXPECT_EQ(http_request("POST", api("/api/v1/events/s3"), unknown.dump(),
                 {{"Authorization", "Bearer " + secret_}}).status, 200);
  std::this_thread::sleep_for(500ms);
  const auto after = status(job);
  EXPECT_EQ(after["status"], "done");
  EXPECT_EQ(after["attempts"], 1) << "the replay queued nothing";
  const std::string metrics = http_request("GET", api("/metrics")).body;
  EXPECT_NE(metrics.find("sy_s3_events_total{outcome=\"ignored\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sy_s3_events_total{outcome=\"duplicate\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("sy_s3_events_total{outcome=\"queued\"} 1"), std::string::npos);

  // Once RGW delivers the topic's queue, a notification takes a fraction of a second: the
  // first one's delay is RGW's pick-up, not our API (which answers 200 at once, so RGW has
  // nothing to retry: no duplicate beyond the replay above).
  const auto second = create_job("second.mp3", bytes.size());
  const auto put_at = Steady::now();
  ASSERT_EQ(upload(second, bytes), 200);
  while (status(second).value("status", "") == "awaiting_upload" && Steady::now() - put_at < 10s)
    std::this_thread::sleep_for(20ms);
  const auto delay = std::chrono::duration<double>(Steady::now() - put_at).count();
  EXPECT_LT(delay, 5.0) << "a warm persistent topic delivers promptly";
  ::testing::Test::RecordProperty("warm_notification_ms", static_cast<int>(delay * 1000));
  EXPECT_EQ(wait_done(second, 60s).value("status", ""), "done");
  const std::string metrics2 = http_request("GET", api("/metrics")).body;
  EXPECT_NE(metrics2.find("sy_s3_events_total{outcome=\"duplicate\"} 1"), std::string::npos) << metrics2;

  EXPECT_EQ(worker->stop(SIGTERM), 0);
  EXPECT_EQ(api_server->stop(SIGTERM), 0);
}

// Several API servers share the PostgreSQL queue: their janitors sweep one at a time.
TEST_F(ScaleOut, OneJanitorSweepsAtATimeAcrossApiServers) {
  sy::queue::PostgresJobQueue server_a(queue_url_, 1), server_b(queue_url_, 1);
  server_a.create({"old", "h", "a.mp3", "uploads/old/a.mp3", 5, "{}", 3});
  sy::service::Janitor janitor_b({24h, 15min, 60s, 60s}, server_b, *store_, nullptr);
  const auto later = sy::storage::Clock::now() + 20min;  // the upload window has closed
  {
    const auto sweeping = server_a.try_exclusive("janitor");  // A's janitor is at work
    ASSERT_TRUE(sweeping);
    EXPECT_EQ(janitor_b.run_once(later).uploads_expired, 0u);
    EXPECT_EQ(server_b.get("old")->status, sy::queue::JobStatus::kAwaitingUpload)
        << "B leaves the sweep to A";
  }
  EXPECT_EQ(janitor_b.run_once(later).uploads_expired, 1u) << "B's turn once A is done";
  EXPECT_EQ(server_b.get("old")->status, sy::queue::JobStatus::kExpired);
}

// Notifications pushed synchronously: the fault test's time goes to the faults, not to RGW's
// 30-s pick-up of a new persistent topic (which also made its 30-s victim search flaky).
class ScaleOutSyncNotify : public ScaleOut {
 protected:
  ScaleOutSyncNotify() { persistent_topic_ = false; }
};

// PostgreSQL + RGW + one API + three workers, 30 jobs; one worker is killed mid-job and
// replaced, the API restarts during the run. Every job completes once, one result each.
TEST_F(ScaleOutSyncNotify, FaultTestEveryJobCompletesExactlyOnce) {
  constexpr int kJobs = 30;
  const std::string bytes = song(3);
  auto api_server = start_api();
  std::vector<std::unique_ptr<sy::testing::ChildProcess>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(start_worker(i));
  std::vector<Created> jobs;
  for (int i = 0; i < kJobs; ++i) {
    jobs.push_back(create_job("song " + std::to_string(i) + ".mp3", bytes.size()));
    ASSERT_EQ(upload(jobs.back(), bytes), 200);
  }
  // Kill -9 a worker in the middle of a job: find a processing job's owner in PostgreSQL.
  PGconn* pg = PQconnectdb(queue_url_.c_str());
  ASSERT_EQ(PQstatus(pg), CONNECTION_OK);
  pid_t victim = -1;
  std::string victim_job;
  const auto end = Steady::now() + 30s;
  while (victim < 0 && Steady::now() < end) {
    PGresult* r = PQexec(pg, "SELECT id, lease_owner FROM sy_jobs WHERE status = 'processing' AND progress > 0.05 LIMIT 1");
    if (PQntuples(r) == 1) {
      victim_job = PQgetvalue(r, 0, 0);
      const std::string owner = PQgetvalue(r, 0, 1);  // host-pid-random-wN
      std::stringstream parts(owner);
      std::string part;
      std::vector<std::string> fields;
      while (std::getline(parts, part, '-')) fields.push_back(part);
      if (fields.size() >= 3) victim = static_cast<pid_t>(std::stol(fields[fields.size() - 3]));
    }
    PQclear(r);
    if (victim < 0) std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(victim, 0) << "no job was seen processing";
  bool killed = false;
  for (auto& w : workers)
    if (w->pid() == victim) {
      EXPECT_EQ(w->stop(SIGKILL), 128 + SIGKILL);
      killed = true;
    }
  ASSERT_TRUE(killed) << "the lease owner is one of our workers";
  workers.push_back(start_worker(3));

  // Restart the API server while the work goes on.
  EXPECT_EQ(api_server->stop(SIGTERM), 0);
  api_server = start_api();

  std::set<std::string> ids;
  for (const auto& job : jobs) {
    const auto s = wait_done(job, 120s);
    EXPECT_EQ(s.value("status", ""), "done") << job.id << ": " << s.dump();
    ids.insert(job.id);
  }
  const auto taken_over =
      std::find_if(jobs.begin(), jobs.end(), [&](const Created& c) { return c.id == victim_job; });
  const auto victim_status = status(*taken_over);
  EXPECT_EQ(victim_status["attempts"], 2) << "the killed worker's job was taken over once";
  // Exactly one result object per job, none elsewhere.
  const auto results = store_->list("processed/");
  EXPECT_EQ(results.size(), static_cast<std::size_t>(kJobs));
  std::map<std::string, int> per_job;
  for (const auto& o : results) ++per_job[o.key.substr(10, o.key.find('/', 10) - 10)];
  for (const auto& id : ids) EXPECT_EQ(per_job[id], 1) << id;
  PGresult* r = PQexec(pg, "SELECT COUNT(*) FROM sy_jobs WHERE status <> 'done'");
  EXPECT_STREQ(PQgetvalue(r, 0, 0), "0") << "none stuck, none lost";
  PQclear(r);
  PQfinish(pg);
  for (auto& w : workers) EXPECT_EQ(w->stop(SIGTERM), w->pid() > 0 ? 0 : -1);
  EXPECT_EQ(api_server->stop(SIGTERM), 0);
}

}  // namespace
