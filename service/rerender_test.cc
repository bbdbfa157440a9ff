// POST /api/v1/jobs/{id}/rerender: a new job on the source job's upload, and that upload kept
// while a rerender still needs it (DELETE of the source, the janitor's retention and sweep).
#include <gtest/gtest.h>

#include "service/api_test_fixture.h"
#include "service/janitor.h"

namespace sy::service {
namespace {

using namespace std::chrono_literals;

class RerenderTest : public ApiTest {
 protected:
  Response rerender(const std::string& id, const std::string& token, const nlohmann::json& body) {
    return api->handle(req("POST", "/api/v1/jobs/" + id + "/rerender", body.dump(),
                           {{"authorization", "Bearer " + token}}));
  }
  Response remove(const Created& c) {
    return api->handle(req("DELETE", "/api/v1/jobs/" + c.id, {}, {{"authorization", "Bearer " + c.token}}));
  }
  static std::string upload_key(const Created& c) { return "uploads/" + c.id + "/My Song.mp3"; }
};

TEST_F(RerenderTest, MakesANewQueuedJobOnTheSameUploadAndKeepsTheSource) {
  const auto source = create(5);
  ASSERT_EQ(upload(source, "12345").status, 200);
  const int hooks_before = queued_hooks;

  const auto r = rerender(source.id, source.token, {{"settings", {{"period", 12}, {"format", "flac"}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto j = body_of(r);
  EXPECT_EQ(j["status"], "queued");
  EXPECT_EQ(j["source"], source.id);
  EXPECT_EQ(j["settings"]["period"], 12);
  EXPECT_EQ(j["settings"]["format"], "flac");
  EXPECT_FALSE(j.contains("upload")) << "nothing to upload again";
  const std::string id = j["id"], token = j["token"];
  EXPECT_NE(id, source.id);
  EXPECT_NE(token, source.token);
  EXPECT_EQ(queued_hooks, hooks_before + 1) << "workers are woken for it";

  const auto job = queue->get(id);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, queue::JobStatus::kQueued);
  EXPECT_EQ(job->upload_key, upload_key(source)) << "the source's object, not a copy";
  EXPECT_TRUE(store->list("uploads/" + id).empty());
  EXPECT_EQ(get_job(id, token).status, 200);
  EXPECT_EQ(get_job(source.id, source.token).status, 200) << "the source is kept";
  // Each job answers only to its own token.
  EXPECT_EQ(get_job(id, source.token).status, 404);
}

TEST_F(RerenderTest, WrongTokenIsNotFoundAndBadSettingsAreRefused) {
  const auto source = create(5);
  ASSERT_EQ(upload(source, "12345").status, 200);
  const auto other = create(5);
  expect_error_shape(rerender(source.id, other.token, nlohmann::json::object()), 404);
  expect_error_shape(rerender(source.id, "", nlohmann::json::object()), 404);
  expect_error_shape(rerender("0123456789abcdef0123456789abcdef", source.token, nlohmann::json::object()), 404);
  expect_error_shape(rerender(source.id, source.token, {{"settings", {{"period", 500}}}}), 400, "invalid_settings");
  expect_error_shape(rerender(source.id, source.token, {{"filename", "x.mp3"}}), 400, "invalid_json");
  EXPECT_EQ(queue->count_by_status()[queue::JobStatus::kQueued], 1) << "only the source's job";
}

TEST_F(RerenderTest, ConflictWhenTheUploadHasNotArrivedOrIsGone) {
  const auto waiting = create(5);
  expect_error_shape(rerender(waiting.id, waiting.token, nlohmann::json::object()), 409, "not_uploaded");

  // A rerender of a rerender reads the first upload; once the source job is deleted and no
  // render needs the upload any more, it is gone.
  const auto source = create(5);
  ASSERT_EQ(upload(source, "12345").status, 200);
  const auto r = rerender(source.id, source.token, nlohmann::json::object());
  ASSERT_EQ(r.status, 201);
  const Created second{body_of(r)["id"], body_of(r)["token"], ""};
  ASSERT_TRUE(queue->claim("w", 10s));  // the source
  ASSERT_TRUE(queue->claim("w", 10s));  // the rerender
  ASSERT_TRUE(queue->complete(source.id, "w", {"processed/a", 5, 1, "mp3", 1}));
  ASSERT_TRUE(queue->complete(second.id, "w", {"processed/b", 5, 1, "mp3", 1}));
  ASSERT_EQ(remove(source).status, 204);
  EXPECT_FALSE(store->stat(upload_key(source))) << "no render needs it: deleted with its job";
  expect_error_shape(rerender(second.id, second.token, nlohmann::json::object()), 409, "source_gone");
}

TEST_F(RerenderTest, DeletingTheSourceKeepsTheUploadUntilTheRerenderIsDone) {
  const auto source = create(5);
  ASSERT_EQ(upload(source, "12345").status, 200);
  const auto r = rerender(source.id, source.token, nlohmann::json::object());
  ASSERT_EQ(r.status, 201);
  const std::string id = body_of(r)["id"];

  ASSERT_EQ(remove(source).status, 204);
  EXPECT_FALSE(queue->get(source.id));
  EXPECT_TRUE(store->stat(upload_key(source))) << "the queued rerender still reads it";

  // The janitor's sweep of objects without a job leaves it while the rerender runs ...
  Janitor janitor({24h, 15min, 60s, 60s}, *queue, *store, store.get());
  EXPECT_EQ(janitor.run_once(storage::Clock::now() + 1h).orphans_removed, 0u);
  EXPECT_TRUE(store->stat(upload_key(source)));
  ASSERT_TRUE(queue->claim("w", 10s));  // the source's own queued job was deleted
  EXPECT_EQ(janitor.run_once(storage::Clock::now() + 1h).orphans_removed, 0u);
  EXPECT_TRUE(store->stat(upload_key(source)));
  // ... and takes it once the rerender is done.
  ASSERT_TRUE(queue->complete(id, "w", {"processed/" + id + "/x", 5, 1, "mp3", 1}));
  EXPECT_EQ(janitor.run_once(storage::Clock::now() + 1h).orphans_removed, 1u);
  EXPECT_FALSE(store->stat(upload_key(source)));
}

TEST_F(RerenderTest, RetentionOfTheSourceKeepsTheUploadARerenderNeeds) {
  const auto source = create(5);
  ASSERT_EQ(upload(source, "12345").status, 200);
  ASSERT_EQ(queue->claim("w", 10s)->id, source.id);
  ASSERT_TRUE(queue->complete(source.id, "w", {"processed/" + source.id + "/x", 5, 1, "mp3", 1}));
  const auto r = rerender(source.id, source.token, nlohmann::json::object());
  ASSERT_EQ(r.status, 201);

  Janitor janitor({24h, 15min, 60s, 60s}, *queue, *store, store.get());
  const auto report = janitor.run_once(storage::Clock::now() + 25h);
  EXPECT_EQ(report.jobs_removed, 1u) << "the source's retention is over";
  EXPECT_FALSE(queue->get(source.id));
  EXPECT_TRUE(store->stat(upload_key(source))) << "the rerender, still queued, reads it";
  EXPECT_TRUE(queue->get(body_of(r)["id"]));
}

}  // namespace
}  // namespace sy::service
