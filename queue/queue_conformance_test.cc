#include "queue/queue_conformance_test.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace sy::queue::testing {

using namespace std::chrono_literals;

void JobQueueConformance::SetUp() {
  GetParam().reset();
  queue = GetParam().open();
}

NewJob JobQueueConformance::make_job(const std::string& id, int max_attempts) const {
  NewJob j;
  j.id = id;
  j.token_hash = "hash-" + id;
  j.filename = "song " + id + ".mp3";
  j.upload_key = "uploads/" + id + "/song.mp3";
  j.size = 12345;
  j.settings_json = R"({"preset":"classic"})";
  j.max_attempts = max_attempts;
  return j;
}

void JobQueueConformance::submit(JobQueue& q, const std::string& id, int max_attempts) const {
  q.create(make_job(id, max_attempts));
  ASSERT_TRUE(q.enqueue(id));
}

TEST_P(JobQueueConformance, CreatedJobRoundTrips) {
  queue->create(make_job("a"));
  const auto j = queue->get("a");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, JobStatus::kAwaitingUpload);
  EXPECT_EQ(j->token_hash, "hash-a");
  EXPECT_EQ(j->filename, "song a.mp3");
  EXPECT_EQ(j->upload_key, "uploads/a/song.mp3");
  EXPECT_EQ(j->size, 12345);
  EXPECT_EQ(j->settings_json, R"({"preset":"classic"})");
  EXPECT_EQ(j->attempts, 0);
  EXPECT_FALSE(j->result);
  EXPECT_LE(std::chrono::abs(j->created_at - Clock::now()), 5s);
  EXPECT_FALSE(queue->get("missing"));
  EXPECT_THROW(queue->create(make_job("a")), std::exception);
}

TEST_P(JobQueueConformance, EnqueueHappensOnceAndOnlyAfterUpload) {
  queue->create(make_job("a"));
  EXPECT_FALSE(queue->claim("w1", 10s)) << "a job awaiting its upload is not work";
  EXPECT_TRUE(queue->enqueue("a"));
  EXPECT_FALSE(queue->enqueue("a")) << "a duplicate object-created event changes nothing";
  EXPECT_FALSE(queue->enqueue("missing"));
  EXPECT_EQ(queue->get("a")->status, JobStatus::kQueued);
}

TEST_P(JobQueueConformance, ClaimsInOrderAndCountsAttempts) {
  for (const char* id : {"a", "b", "c"}) {
    submit(*queue, id);
    std::this_thread::sleep_for(2ms);
  }
  for (const char* id : {"a", "b", "c"}) {
    const auto j = queue->claim("w1", 10s);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->id, id);
    EXPECT_EQ(j->status, JobStatus::kProcessing);
    EXPECT_EQ(j->attempts, 1);
    EXPECT_EQ(j->lease_owner, "w1");
    EXPECT_GT(j->lease_expires, Clock::now() + 5s);
  }
  EXPECT_FALSE(queue->claim("w1", 10s));
}

TEST_P(JobQueueConformance, ConcurrentWorkersTakeEachJobExactlyOnce) {
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) submit(*queue, "job" + std::to_string(i));
  std::mutex m;
  std::vector<std::string> taken;
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      auto conn = GetParam().open();  // each worker on its own connection
      while (auto j = conn->claim("w" + std::to_string(w), 10s)) {
        std::lock_guard lock(m);
        taken.push_back(j->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> unique(taken.begin(), taken.end());
  EXPECT_EQ(taken.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kJobs));
}

TEST_P(JobQueueConformance, ExpiredLeaseHandsTheJobToAnotherWorker) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("dead", 150ms));
  EXPECT_FALSE(queue->claim("w2", 10s)) << "the lease still holds";
  std::this_thread::sleep_for(250ms);
  const auto j = queue->claim("w2", 10s);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->id, "a");
  EXPECT_EQ(j->attempts, 2);
  EXPECT_EQ(j->lease_owner, "w2");
  // The worker that lost its lease can no longer touch the job: it is never done twice.
  EXPECT_FALSE(queue->renew("a", "dead", 10s));
  EXPECT_FALSE(queue->report_progress("a", "dead", 0.5, "rendering"));
  EXPECT_FALSE(queue->complete("a", "dead", JobResult{"processed/a/x.mp3", 1, 1, "mp3", 1}));
  EXPECT_FALSE(queue->fail("a", "dead", "x", false));
  EXPECT_TRUE(queue->complete("a", "w2", JobResult{"processed/a/x.mp3", 1, 1, "mp3", 1}));
}

TEST_P(JobQueueConformance, RenewingKeepsTheLease) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("w1", 200ms));
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(100ms);
    ASSERT_TRUE(queue->renew("a", "w1", 200ms));
    EXPECT_FALSE(queue->claim("w2", 10s));
  }
  EXPECT_FALSE(queue->renew("a", "w2", 200ms));
}

TEST_P(JobQueueConformance, ThreeFailedAttemptsThenFailedWithTheReason) {
  submit(*queue, "a");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const auto j = queue->claim("w1", 10s);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->attempts, attempt);
    const auto status = queue->fail("a", "w1", "boom " + std::to_string(attempt), false);
    ASSERT_TRUE(status);
    EXPECT_EQ(*status, attempt < 3 ? JobStatus::kQueued : JobStatus::kFailed);
  }
  EXPECT_FALSE(queue->claim("w1", 10s));
  const auto j = queue->get("a");
  EXPECT_EQ(j->status, JobStatus::kFailed);
  EXPECT_EQ(j->error, "boom 3");
  EXPECT_EQ(j->attempts, 3);
  EXPECT_FALSE(j->failed_permanently) << "its attempts ran out; the file was never refused";
}

TEST_P(JobQueueConformance, PermanentFailureIsImmediate) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("w1", 10s));
  EXPECT_EQ(queue->fail("a", "w1", "not an audio file", true), JobStatus::kFailed);
  const auto j = queue->get("a");
  EXPECT_EQ(j->attempts, 1);
  EXPECT_EQ(j->error, "not an audio file");
  EXPECT_TRUE(j->failed_permanently);
  EXPECT_FALSE(queue->claim("w1", 10s));
}

// Whether a failed job was refused is what it was told, not what its attempt count suggests:
// a refusal on the last attempt, a retried failure then a refusal, a single attempt that ran
// out.
TEST_P(JobQueueConformance, AFailedJobKeepsWhetherItWasRefused) {
  submit(*queue, "refused-on-last", 1);
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_EQ(queue->fail("refused-on-last", "w", "not an audio file", true), JobStatus::kFailed);
  submit(*queue, "retried-then-refused", 3);
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_EQ(queue->fail("retried-then-refused", "w", "the render process crashed", false),
            JobStatus::kQueued);
  EXPECT_FALSE(queue->get("retried-then-refused")->failed_permanently) << "queued again";
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_EQ(queue->fail("retried-then-refused", "w", "not an audio file", true), JobStatus::kFailed);
  submit(*queue, "one-attempt-ran-out", 1);
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_EQ(queue->fail("one-attempt-ran-out", "w", "the render process crashed", false),
            JobStatus::kFailed);

  EXPECT_TRUE(queue->get("refused-on-last")->failed_permanently);
  EXPECT_TRUE(queue->get("retried-then-refused")->failed_permanently);
  EXPECT_FALSE(queue->get("one-attempt-ran-out")->failed_permanently);
  queue.reset();
  queue = GetParam().open();
  EXPECT_TRUE(queue->get("refused-on-last")->failed_permanently) << "stored, not cached";
}

// A database from before the flag: a job failed before its last attempt can only have been
// refused; one failed on its last attempt reads as run out, the only guess the count allows.
TEST_P(JobQueueConformance, OlderFailedJobsGetTheirKindFromTheirCount) {
  submit(*queue, "refused", 3);
  ASSERT_TRUE(queue->claim("w", 10s));
  ASSERT_EQ(queue->fail("refused", "w", "not an audio file", true), JobStatus::kFailed);
  submit(*queue, "ran-out", 1);
  ASSERT_TRUE(queue->claim("w", 10s));
  ASSERT_EQ(queue->fail("ran-out", "w", "the render process crashed", false), JobStatus::kFailed);
  submit(*queue, "queued", 3);
  queue.reset();
  GetParam().drop_failure_kind();
  queue = GetParam().open();
  EXPECT_TRUE(queue->get("refused")->failed_permanently);
  EXPECT_FALSE(queue->get("ran-out")->failed_permanently);
  EXPECT_FALSE(queue->get("queued")->failed_permanently);
  EXPECT_EQ(queue->get("refused")->error, "not an audio file") << "the rows are kept";
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_EQ(queue->fail("queued", "w", "bad settings", true), JobStatus::kFailed);
  EXPECT_TRUE(queue->get("queued")->failed_permanently);
}

TEST_P(JobQueueConformance, LeaseLostOnTheLastAttemptIsTheDeadLetterState) {
  submit(*queue, "a", 1);
  ASSERT_TRUE(queue->claim("dead", 50ms));
  std::this_thread::sleep_for(120ms);
  EXPECT_FALSE(queue->claim("w2", 10s));
  const auto j = queue->get("a");
  EXPECT_EQ(j->status, JobStatus::kFailed);
  EXPECT_NE(j->error.find("lease"), std::string::npos) << j->error;
  EXPECT_FALSE(j->failed_permanently) << "its worker died; the file was not refused";
}

TEST_P(JobQueueConformance, CompleteStoresTheResultOnce) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("w1", 10s));
  ASSERT_TRUE(queue->report_progress("a", "w1", 0.5, "rendering"));
  auto j = queue->get("a");
  EXPECT_DOUBLE_EQ(j->progress, 0.5);
  EXPECT_EQ(j->stage, "rendering");
  const JobResult r{"processed/a/song (8D).mp3", 4242, 180.5, "mp3", 12.5};
  EXPECT_FALSE(queue->complete("a", "w2", r));
  EXPECT_TRUE(queue->complete("a", "w1", r));
  EXPECT_FALSE(queue->complete("a", "w1", r));
  j = queue->get("a");
  EXPECT_EQ(j->status, JobStatus::kDone);
  EXPECT_DOUBLE_EQ(j->progress, 1.0);
  ASSERT_TRUE(j->result);
  EXPECT_EQ(j->result->key, r.key);
  EXPECT_EQ(j->result->bytes, 4242);
  EXPECT_DOUBLE_EQ(j->result->duration_seconds, 180.5);
  EXPECT_EQ(j->result->format, "mp3");
  EXPECT_DOUBLE_EQ(j->result->wall_seconds, 12.5);
}

// Each attempt writes its result under a key of its own; only the attempt that still holds
// the lease turns its key into the job's result, whichever finishes first.
TEST_P(JobQueueConformance, OnlyTheLeaseHolderCommitsItsResult) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("slow", 150ms));
  std::this_thread::sleep_for(250ms);
  ASSERT_TRUE(queue->claim("fast", 10s));
  const JobResult winner{"processed/a/2-fast/song (8D).mp3", 2, 1, "mp3", 1};
  const JobResult loser{"processed/a/1-slow/song (8D).mp3", 1, 1, "mp3", 1};
  // The loser finishing before the winner does not take the job over…
  EXPECT_FALSE(queue->complete("a", "slow", loser));
  EXPECT_FALSE(queue->get("a")->result);
  EXPECT_TRUE(queue->complete("a", "fast", winner));
  // …nor after it.
  EXPECT_FALSE(queue->complete("a", "slow", loser));
  const auto j = queue->get("a");
  EXPECT_EQ(j->status, JobStatus::kDone);
  ASSERT_TRUE(j->result);
  EXPECT_EQ(j->result->key, winner.key);
  EXPECT_EQ(j->result->bytes, 2);
}

// Housekeeping shared by processes on one queue runs in one of them at a time.
TEST_P(JobQueueConformance, ExclusiveTurnGoesToOneHolderAtATime) {
  auto other = GetParam().open();
  {
    const auto turn = queue->try_exclusive("janitor");
    ASSERT_TRUE(turn);
    EXPECT_FALSE(other->try_exclusive("janitor")) << "held by the first";
    EXPECT_FALSE(queue->try_exclusive("janitor")) << "held even against its own holder";
    EXPECT_TRUE(other->try_exclusive("reports")) << "another task";
  }
  EXPECT_TRUE(other->try_exclusive("janitor")) << "free once the turn ended";
}

TEST_P(JobQueueConformance, ReleaseHandsBackWithoutCountingTheAttempt) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("w1", 10s));
  EXPECT_TRUE(queue->release("a", "w1"));
  EXPECT_FALSE(queue->release("a", "w1"));
  auto j = queue->get("a");
  EXPECT_EQ(j->status, JobStatus::kQueued);
  EXPECT_EQ(j->attempts, 0);
  j = queue->claim("w2", 10s);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->attempts, 1);
}

TEST_P(JobQueueConformance, RemovedJobStopsItsWorker) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("w1", 10s));
  EXPECT_TRUE(queue->remove("a"));
  EXPECT_FALSE(queue->remove("a"));
  EXPECT_FALSE(queue->get("a"));
  EXPECT_FALSE(queue->renew("a", "w1", 10s));
  EXPECT_FALSE(queue->complete("a", "w1", JobResult{}));
}

TEST_P(JobQueueConformance, CountsAndHousekeepingQueries) {
  queue->create(make_job("waiting"));
  submit(*queue, "queued");
  submit(*queue, "done");
  submit(*queue, "failed");
  // Claims go in queue order; a released job keeps its place at the front.
  ASSERT_EQ(queue->claim("w", 10s)->id, "queued");
  ASSERT_TRUE(queue->release("queued", "w"));
  ASSERT_EQ(queue->claim("w", 10s)->id, "queued");
  ASSERT_EQ(queue->claim("w", 10s)->id, "done");
  ASSERT_EQ(queue->claim("w", 10s)->id, "failed");
  ASSERT_TRUE(queue->release("queued", "w"));
  ASSERT_TRUE(queue->complete("done", "w", JobResult{"k", 1, 1, "mp3", 1}));
  ASSERT_TRUE(queue->fail("failed", "w", "bad", true));
  auto counts = queue->count_by_status();
  EXPECT_EQ(counts[JobStatus::kAwaitingUpload], 1);
  EXPECT_EQ(counts[JobStatus::kQueued], 1);
  EXPECT_EQ(counts[JobStatus::kDone], 1);
  EXPECT_EQ(counts[JobStatus::kFailed], 1);
  EXPECT_EQ(counts[JobStatus::kProcessing], 0);

  EXPECT_TRUE(queue->expire_uploads(Clock::now() - 1h).empty());
  EXPECT_EQ(queue->expire_uploads(Clock::now() + 1s), std::vector<std::string>{"waiting"});
  EXPECT_EQ(queue->get("waiting")->status, JobStatus::kExpired);
  EXPECT_FALSE(queue->enqueue("waiting")) << "a late upload does not revive an expired job";

  EXPECT_TRUE(queue->finished_before(Clock::now() - 1h).empty());
  auto old = queue->finished_before(Clock::now() + 1s);
  std::sort(old.begin(), old.end());
  EXPECT_EQ(old, (std::vector<std::string>{"done", "failed", "waiting"}));
}

TEST_P(JobQueueConformance, TheReportTravelsWithTheResult) {
  submit(*queue, "a");
  ASSERT_TRUE(queue->claim("w", 10s));
  JobResult r{"processed/a/x (8D).mp3", 10, 1.5, "mp3", 0.5};
  r.report_json = R"({"integratedLufs":-14.02,"truePeakDbtp":-1.1})";
  ASSERT_TRUE(queue->complete("a", "w", r));
  EXPECT_EQ(queue->get("a")->result->report_json, r.report_json);
}

TEST_P(JobQueueConformance, UploadInUseWhileAJobThatReadsItIsNotFinal) {
  // "rerender" renders from "source"'s upload, as POST /jobs/{id}/rerender creates it.
  NewJob rerender = make_job("rerender");
  rerender.upload_key = make_job("source").upload_key;
  ASSERT_NE(rerender.upload_key, make_job("other").upload_key);
  queue->create(rerender);
  ASSERT_TRUE(queue->enqueue("rerender"));
  EXPECT_TRUE(queue->upload_in_use(rerender.upload_key));
  EXPECT_FALSE(queue->upload_in_use(make_job("other").upload_key));
  ASSERT_TRUE(queue->claim("w", 10s));
  EXPECT_TRUE(queue->upload_in_use(rerender.upload_key)) << "processing still reads it";
  ASSERT_TRUE(queue->complete("rerender", "w", JobResult{"k", 1, 1, "mp3", 1}));
  EXPECT_FALSE(queue->upload_in_use(rerender.upload_key)) << "a finished job no longer needs it";
}

TEST_P(JobQueueConformance, JobsSurviveReopening) {
  submit(*queue, "a");
  queue->create(make_job("b"));
  queue.reset();
  queue = GetParam().open();
  EXPECT_EQ(queue->get("a")->status, JobStatus::kQueued);
  EXPECT_EQ(queue->get("b")->status, JobStatus::kAwaitingUpload);
  EXPECT_EQ(queue->claim("w", 10s)->id, "a");
}

}  // namespace sy::queue::testing
