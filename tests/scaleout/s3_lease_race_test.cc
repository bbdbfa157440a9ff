// Issue 11 item 6 on S3 (the fixture's Ceph RGW): a worker whose lease ran out while it
// uploaded never replaces the result of the worker that took the job over. The winner's result
// stands at PRODUCT.md's key processed/<job-id>/<name> (8D).<ext>, the loser's upload is gone.
// A real worker pool and render, a real bucket, the SQLite queue.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "queue/sqlite/sqlite_queue.h"
#include "storage/keys.h"
#include "storage/s3/s3_store.h"
#include "tests/support/lease_race.h"
#include "tests/support/process.h"
#include "tests/support/queued_job.h"
#include "tests/support/rgw_env.h"
#include "tests/support/sqlite_edit.h"
#include "tests/support/temp_dir.h"
#include "worker/worker_pool.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// What both tests start from: a sine queued as job `id` (mp3) in a SQLite queue, its upload
// in a bucket of the test's own on the fixture's gateway, emptied when the test ends.
struct SineJobOnS3 {
  SineJobOnS3(const std::string& bucket_prefix, const std::string& id, int seconds)
      : store(bucket_options(bucket_prefix)) {
    store.ensure_bucket();
    sy::testing::queue_sine_job(queue, store, dir.path(), id, seconds, R"({"format":"mp3"})");
  }
  ~SineJobOnS3() {
    try {
      store.remove_prefix("");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "emptying the bucket: " << e.what();
    }
  }
  static sy::storage::S3Options bucket_options(const std::string& prefix) {
    const char* state = std::getenv("SY_TEST_SCALEOUT_STATE");
    if (!state) throw std::runtime_error("SY_TEST_SCALEOUT_STATE is not set: run through ctest");
    const auto rgw = sy::testing::read_env_file(std::string(state) + "/rgw/env");
    if (!rgw.count("RGW_ENDPOINT")) throw std::runtime_error("RGW is not running");
    return sy::testing::rgw_store_options(rgw, prefix + "-" + std::to_string(::getpid()));
  }

  sy::storage::S3ObjectStore store;
  sy::testing::TempDir dir;
  const fs::path db = dir.path() / "queue.db";
  sy::queue::SqliteJobQueue queue{db};
};

// Runs a worker pool on `queue` and `store` until it reports its first outcome (a minute at
// most), stops it and returns that outcome.
std::string first_outcome(sy::queue::JobQueue& queue, sy::storage::ObjectStore& store, const fs::path& scratch) {
  std::mutex m;
  std::string outcome;
  sy::worker::WorkerPoolOptions o;
  o.lease = 3s;
  o.poll = 50ms;
  o.scratch_dir = scratch;
  sy::worker::WorkerPool pool(o, queue, store,
                              [&](const sy::queue::Job&, std::string_view what, double, double) {
                                std::lock_guard lock(m);
                                if (outcome.empty()) outcome = what;
                              });
  pool.start();
  const auto end = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    {
      std::lock_guard lock(m);
      if (!outcome.empty() || std::chrono::steady_clock::now() > end) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  pool.stop();
  std::lock_guard lock(m);
  return outcome;
}

TEST(S3LeaseRace, AWorkerThatLostItsLeaseNeverReplacesTheWinnersResult) {
  SineJobOnS3 s("sy-lease-race", "race", 3);
  auto& store = s.store;
  const fs::path winner_bytes = s.dir.path() / "winner.bin";
  std::ofstream(winner_bytes) << std::string(23456, 'w');
  sy::testing::StoreWhereTheLeaseIsLostDuringUpload racing(store, s.queue, sy::testing::take_over_in_sqlite(s.db),
                                                           winner_bytes);
  EXPECT_EQ(first_outcome(s.queue, racing, s.dir.path() / "scratch"), "abandoned");
  const auto job = s.queue.get("race");
  ASSERT_TRUE(job && job->result);
  EXPECT_EQ(job->status, sy::queue::JobStatus::kDone);
  EXPECT_EQ(job->result->key, "processed/race/race (8D).mp3") << "PRODUCT.md's key";
  const auto info = store.stat(job->result->key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 23456) << "the winner's bytes, not the loser's render";
  EXPECT_EQ(racing.loser_moves, 0) << "the loser never touched the result key";
  EXPECT_FALSE(store.stat(racing.loser_key)) << "the loser's upload is deleted";
  EXPECT_TRUE(store.list("attempts/").empty());
}

// The same pool on S3: the result is moved into place (CopyObject, DELETE), then the queue
// refuses to record the completion; the job fails on its only attempt and its result object
// goes with the failure (the embedded store's case is in worker_tests).
TEST(S3ResultFinalisation, AFailureAfterTheResultWasMovedLeavesNoResultObject) {
  SineJobOnS3 s("sy-unrecorded", "unrecorded", 1);
  auto& store = s.store;
  sy::testing::edit_sqlite(s.db,
                           "UPDATE jobs SET max_attempts = 1; "
                           "CREATE TRIGGER refuse_done BEFORE UPDATE OF status ON jobs "
                           "WHEN NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");

  EXPECT_EQ(first_outcome(s.queue, store, s.dir.path() / "scratch"), "failed");
  const auto job = s.queue.get("unrecorded");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, sy::queue::JobStatus::kFailed);
  // The sentence of a failure at the recording step: the move before it had happened.
  EXPECT_EQ(job->error, "the server could not record the result (an error on the server, not in the file)");
  EXPECT_TRUE(store.list("processed/").empty());
  EXPECT_TRUE(store.list("attempts/").empty());
  EXPECT_TRUE(store.stat(job->upload_key)) << "the upload stays for a rerender";
}

}  // namespace
