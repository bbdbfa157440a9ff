// The jobs, S3 event and operations routes, CORS and dispatch through the route table.
#include <gtest/gtest.h>

#include <set>

#include "service/api_test_fixture.h"
#include "storage/keys.h"
#include "storage/sigv4.h"

namespace sy::service {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST_F(ApiTest, CreateReturnsAPresignedUploadAndKeepsOnlyTheTokenHash) {
  const auto r = api->handle(req("POST", "/api/v1/jobs",
                                 json{{"filename", "../My Song.mp3"}, {"size", 1000},
                                      {"settings", {{"preset", "slow"}, {"format", "flac"}}}}.dump()));
  ASSERT_EQ(r.status, 201) << r.body;
  const auto j = body_of(r);
  const std::string id = j["id"], token = j["token"];
  EXPECT_EQ(id.size(), 32u);
  EXPECT_GE(token.size(), 32u);
  EXPECT_EQ(j["status"], "awaiting_upload");
  EXPECT_EQ(j["upload"]["method"], "PUT");
  EXPECT_EQ(j["settings"]["format"], "flac");
  const std::string url = j["upload"]["url"];
  EXPECT_EQ(url.rfind("http://127.0.0.1:8080/store/uploads/" + id + "/My%20Song.mp3?", 0), 0u) << url;
  EXPECT_NE(url.find("X-Amz-Signature="), std::string::npos);
  const auto job = queue->get(id);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->token_hash, storage::sha256_hex(token));
  EXPECT_EQ(job->token_hash.find(token), std::string::npos);
  EXPECT_EQ(job->upload_key, "uploads/" + id + "/My Song.mp3");
  // Ids do not repeat.
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.insert(create().id);
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(ApiTest, CreateValidatesNameSizeAndSettings) {
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs", "{nope")), 400, "invalid_json");
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs", "[]")), 400, "invalid_json");
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs", json{{"size", 10}}.dump())), 400,
                     "invalid_filename");
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs", json{{"filename", "x.exe"}, {"size", 10}}.dump())),
                     415, "unsupported_media_type");
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs", json{{"filename", "x.mp3"}, {"size", 0}}.dump())),
                     400, "invalid_size");
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs", json{{"filename", "x.mp3"}, {"size", "9"}}.dump())),
                     400, "invalid_size");
  const Response too_large =
      api->handle(req("POST", "/api/v1/jobs", json{{"filename", "x.mp3"}, {"size", 3 << 19}}.dump()));
  expect_error_shape(too_large, 413, "too_large");
  EXPECT_NE(too_large.body.find("the file is 1.5 MB, over the 1 MB upload limit"), std::string::npos) << too_large.body;
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs",
                                     json{{"filename", "x.mp3"}, {"size", 5}, {"settings", {{"period", -3}}}}.dump())),
                     400, "invalid_settings");
  expect_error_shape(api->handle(req("POST", "/api/v1/jobs",
                                     json{{"filename", "x.mp3"}, {"size", 5}, {"settings", {{"preset", "zzz"}}}}.dump())),
                     400, "invalid_settings");
  EXPECT_EQ(queue->count_by_status()[queue::JobStatus::kAwaitingUpload], 0);
}

// RFC 9110 §11.1: the authentication scheme is case-insensitive, so `bearer` and `BEARER`
// open the job as `Bearer` does; another scheme, or the scheme without a token, does not.
TEST_F(ApiTest, TheBearerSchemeIsReadInAnyCase) {
  const auto a = create();
  const std::string path = "/api/v1/jobs/" + a.id;
  for (const std::string scheme : {"Bearer ", "bearer ", "BEARER ", "beaRer  "})
    EXPECT_EQ(api->handle(req("GET", path, {}, {{"authorization", scheme + a.token}})).status, 200) << scheme;
  for (const std::string& value : std::vector<std::string>{"Basic " + a.token, "Bearer", "Bearer ", "Bearer" + a.token, a.token})
    expect_error_shape(api->handle(req("GET", path, {}, {{"authorization", value}})), 404, "not_found");
}

TEST_F(ApiTest, WithoutItsTokenAJobDoesNotExist) {
  const auto a = create();
  const auto b = create();
  EXPECT_EQ(get_job(a.id, a.token).status, 200);
  expect_error_shape(api->handle(req("GET", "/api/v1/jobs/" + a.id)), 404, "not_found");
  expect_error_shape(get_job(a.id, b.token), 404, "not_found");
  expect_error_shape(get_job(a.id, a.token + "x"), 404, "not_found");
  expect_error_shape(get_job(std::string(32, 'f'), a.token), 404, "not_found");
  expect_error_shape(get_job("../../etc", a.token), 404, "not_found");
  expect_error_shape(api->handle(req("DELETE", "/api/v1/jobs/" + a.id, {}, {{"authorization", "Bearer " + b.token}})),
                     404, "not_found");
  // The token in the URL (where logs and Referer keep it) opens only the event stream,
  // for EventSource, which cannot send headers.
  expect_error_shape(api->handle(req("GET", "/api/v1/jobs/" + a.id + "?token=" + a.token)), 404,
                     "not_found");
  expect_error_shape(api->handle(req("DELETE", "/api/v1/jobs/" + a.id + "?token=" + a.token)), 404,
                     "not_found");
  EXPECT_EQ(api->handle(req("GET", "/api/v1/jobs/" + a.id + "/events?token=" + a.token)).status, 200);
}

TEST_F(ApiTest, UploadedFallbackQueuesOnlyACompleteUpload) {
  const auto c = create(5);
  const auto post = [&] {
    return api->handle(req("POST", "/api/v1/jobs/" + c.id + "/uploaded", {}, {{"authorization", "Bearer " + c.token}}));
  };
  expect_error_shape(post(), 409, "upload_missing");
  upload_unannounced(c, "12345");
  EXPECT_EQ(queue->get(c.id)->status, queue::JobStatus::kAwaitingUpload);
  const auto r = post();
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(body_of(r)["status"], "queued");
}

TEST_F(ApiTest, S3NotificationsQueueTheJob) {
  const auto c = create(5, "a b.mp3");
  upload_unannounced(c, "12345");
  const json event{{"Records",
                    {{{"eventName", "ObjectCreated:Put"},
                      {"s3", {{"bucket", {{"name", "b"}}}, {"object", {{"key", "uploads/" + c.id + "/a+b.mp3"}, {"size", 5}}}}}}}}};
  expect_error_shape(api->handle(req("POST", "/api/v1/events/s3", event.dump())), 401);
  expect_error_shape(api->handle(req("POST", "/api/v1/events/s3", event.dump(), {{"authorization", "Bearer nope"}})), 401);
  expect_error_shape(api->handle(req("POST", "/api/v1/events/s3", event.dump(), {{"authorization", "Basic events-secret"}})), 401);
  // The scheme in any case (RFC 9110 §11.1).
  const auto r = api->handle(req("POST", "/api/v1/events/s3", event.dump(), {{"authorization", "bearer events-secret"}}));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(queue->get(c.id)->status, queue::JobStatus::kQueued);
}

TEST_F(ApiTest, S3NotificationWithOneBadRecordChangesNothing) {
  const auto c = create(5, "a.mp3");
  upload_unannounced(c, "12345");
  const json good{{"eventName", "ObjectCreated:Put"},
                  {"s3", {{"bucket", {{"name", "b"}}}, {"object", {{"key", "uploads/" + c.id + "/a.mp3"}, {"size", 5}}}}}};
  json bad = good;
  bad["s3"]["object"]["size"] = "5";
  const auto r = api->handle(req("POST", "/api/v1/events/s3", json{{"Records", {good, bad}}}.dump(),
                                 {{"authorization", "Bearer events-secret"}}));
  expect_error_shape(r, 400, "invalid_event");
  EXPECT_EQ(queue->get(c.id)->status, queue::JobStatus::kAwaitingUpload) << "the good record was not applied";
}

TEST_F(ApiTest, S3NotificationOfAnotherBucketChangesNothing) {
  options.s3_bucket = "ours";
  make_api();
  const auto c = create(5, "a.mp3");
  upload_unannounced(c, "12345");
  const auto record = [&](const std::string& bucket) {
    return json{{"eventName", "ObjectCreated:Put"},
                {"s3", {{"bucket", {{"name", bucket}}}, {"object", {{"key", "uploads/" + c.id + "/a.mp3"}, {"size", 5}}}}}};
  };
  const auto post = [&](const json& records) {
    return api->handle(req("POST", "/api/v1/events/s3", json{{"Records", records}}.dump(),
                           {{"authorization", "Bearer events-secret"}}));
  };
  expect_error_shape(post(json::array({record("ours"), record("theirs")})), 400, "invalid_event");
  EXPECT_EQ(queue->get(c.id)->status, queue::JobStatus::kAwaitingUpload);
  EXPECT_EQ(post(json::array({record("ours")})).status, 200);
  EXPECT_EQ(queue->get(c.id)->status, queue::JobStatus::kQueued);
}

TEST_F(ApiTest, DeleteRemovesTheJobAndItsObjects) {
  const auto c = create(5);
  upload(c, "12345");
  const auto r = api->handle(req("DELETE", "/api/v1/jobs/" + c.id, {}, {{"authorization", "Bearer " + c.token}}));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(deleted, std::vector<std::string>{c.id});
  EXPECT_FALSE(queue->get(c.id));
  EXPECT_TRUE(store->list("uploads/" + c.id).empty());
  expect_error_shape(get_job(c.id, c.token), 404);
}

// Status polls are answered from cached rows and views: each poll must still show the row
// as the queue last committed it, whoever wrote it (worker progress, the janitor, a delete).
TEST_F(ApiTest, StatusReflectsEveryQueueWriteAtTheNextPoll) {
  const auto c = create(5);
  upload(c, "12345");
  auto poll = [&] {
    get_job(c.id, c.token);  // the first of two polls fills the caches
    const auto r = get_job(c.id, c.token);
    EXPECT_EQ(r.status, 200) << r.body;
    return body_of(r);
  };
  EXPECT_EQ(poll()["status"], "queued");
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_EQ(poll()["stage"], "starting");
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(queue->report_progress(c.id, "w", i * 0.2, "rendering"));
    const auto j = poll();
    EXPECT_DOUBLE_EQ(j["progress"].get<double>(), i * 0.2);
    EXPECT_EQ(j["stage"], "rendering");
  }
  ASSERT_EQ(queue->fail(c.id, "w", "out of memory", false), queue::JobStatus::kQueued);
  auto j = poll();
  EXPECT_EQ(j["status"], "queued");
  EXPECT_EQ(j["error"], "out of memory");
  ASSERT_TRUE(queue->claim("w2", 10s));
  EXPECT_EQ(poll()["attempts"], 2);
  ASSERT_TRUE(queue->complete(c.id, "w2", {storage::processed_key(c.id, "My Song.mp3", "mp3"), 10, 1.0, "mp3", 1.0}));
  j = poll();
  EXPECT_EQ(j["status"], "done");
  EXPECT_EQ(j["result"]["bytes"], 10);
  ASSERT_TRUE(queue->remove(c.id));  // as the janitor does when retention is over
  expect_error_shape(get_job(c.id, c.token), 404, "not_found");
}

TEST_F(ApiTest, OpenApiDescribesEveryRouteAndEveryRouteAnswers) {
  const auto r = api->handle(req("GET", "/api/v1/openapi.json"));
  ASSERT_EQ(r.status, 200);
  const auto doc = body_of(r);
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  std::size_t documented = 0;
  for (const auto& [path, item] : doc["paths"].items())
    for (const auto& [method, op] : item.items())
      if (method != "parameters") ++documented;
  EXPECT_EQ(documented, routes().size());
  const std::string id(32, 'a');
  for (const Route& route : routes()) {
    const std::string templ(route.path);
    ASSERT_TRUE(doc["paths"].contains(templ)) << templ;
    const auto& op = doc["paths"].at(templ).at(openapi_method(route));
    EXPECT_TRUE(op.contains("summary") && op.contains("responses")) << route.method << " " << templ;
    std::string path = templ;
    if (auto p = path.find("{id}"); p != std::string::npos) path.replace(p, 4, id);
    if (auto p = path.find("{key}"); p != std::string::npos) path.replace(p, 5, "uploads/x/y.mp3");
    const std::string m = route.method == "*" ? "GET" : std::string(route.method);
    const auto res = api->handle(req(m, path, "{}"));
    EXPECT_NE(res.status, 405) << m << " " << path;
    if (res.status == 404) {
      EXPECT_EQ(body_of(res)["error"]["message"], "no such job") << m << " " << path;
    }
  }
  expect_error_shape(api->handle(req("GET", "/api/v1/nothing")), 404);
  expect_error_shape(api->handle(req("PATCH", "/api/v1/jobs")), 405, "method_not_allowed");
}

TEST_F(ApiTest, AnotherMethodGets405WithTheRoutesOfThePathAndEveryAnswerItsLabel) {
  const std::string job = "/api/v1/jobs/" + std::string(32, 'a');
  auto r = api->handle(req("PUT", job));
  expect_error_shape(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("Allow"), "GET, DELETE");
  EXPECT_EQ(r.route, "/api/v1/jobs/{id}");
  r = api->handle(req("GET", "/api/v1/jobs"));
  EXPECT_EQ(r.header("Allow"), "POST");
  EXPECT_EQ(r.route, "/api/v1/jobs");
  r = api->handle(req("DELETE", "/store/uploads/x/y.mp3"));
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, PUT");
  EXPECT_EQ(api->handle(req("GET", job + "/nope")).route, "other");
  EXPECT_EQ(api->handle(req("POST", "/healthz")).status, 200);  // probes use any verb
  // With S3 there is no embedded store to answer /store/.
  Api s3_api(options, *queue, *store, nullptr, metrics);
  r = s3_api.handle(req("GET", "/store/uploads/x/y.mp3"));
  expect_error_shape(r, 404, "not_found");
  r = s3_api.handle(req("DELETE", "/store/uploads/x/y.mp3"));
  expect_error_shape(r, 404, "not_found");
}

TEST_F(ApiTest, CorsAllowsOnlyListedOriginsAndAnswersPreflight) {
  auto r = api->handle(req("GET", "/api/v1/presets", {}, {{"origin", "https://app.example"}}));
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_FALSE(r.header("Access-Control-Allow-Credentials"));
  r = api->handle(req("GET", "/api/v1/presets", {}, {{"origin", "https://evil.example"}}));
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin"));
  r = api->handle(req("OPTIONS", "/api/v1/jobs", {},
                      {{"origin", "https://app.example"}, {"access-control-request-method", "POST"}}));
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(r.header("Access-Control-Allow-Methods")->find("POST"), std::string::npos);
  EXPECT_NE(r.header("Access-Control-Allow-Headers")->find("Authorization"), std::string::npos);
}

TEST_F(ApiTest, JobCreationIsRateLimitedPerClient) {
  options.create_per_minute = 6;
  options.create_burst = 2;
  make_api();
  const std::string body = json{{"filename", "a.mp3"}, {"size", 5}}.dump();
  EXPECT_EQ(api->handle(req("POST", "/api/v1/jobs", body)).status, 201);
  EXPECT_EQ(api->handle(req("POST", "/api/v1/jobs", body)).status, 201);
  const auto r = api->handle(req("POST", "/api/v1/jobs", body));
  expect_error_shape(r, 429, "rate_limited");
  EXPECT_TRUE(r.header("Retry-After"));
  auto other = req("POST", "/api/v1/jobs", body);
  other.remote = "10.0.0.2";
  EXPECT_EQ(api->handle(other).status, 201);
}

TEST_F(ApiTest, PresetsHealthAndMetrics) {
  const auto presets = body_of(api->handle(req("GET", "/api/v1/presets")));
  ASSERT_GE(presets["presets"].size(), 6u);
  // A preset's settings, posted back as a job's settings, are accepted as they are.
  for (const auto& p : presets["presets"]) {
    EXPECT_TRUE(p["settings"].contains("bassCrossover")) << p.dump();
    const auto r = api->handle(req("POST", "/api/v1/jobs",
                                   json{{"filename", "a.mp3"}, {"size", 10}, {"settings", p["settings"]}}.dump()));
    EXPECT_EQ(r.status, 201) << r.body;
  }
  EXPECT_EQ(api->handle(req("GET", "/healthz")).status, 200);
  EXPECT_EQ(api->handle(req("GET", "/readyz")).status, 200);
  const auto c = create(5);
  upload(c, "12345");
  metrics.request("/api/v1/jobs", "POST", 201);
  const auto m = api->handle(req("GET", "/metrics"));
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("sy_jobs{state=\"queued\"} 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("sy_queue_depth 1"), std::string::npos);
  EXPECT_NE(m.body.find("sy_upload_bytes_total 5"), std::string::npos);
  EXPECT_NE(m.body.find("sy_http_requests_total{method=\"POST\",route=\"/api/v1/jobs\",status=\"201\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("sy_job_duration_seconds_bucket"), std::string::npos);
}
}  // namespace
}  // namespace sy::service
