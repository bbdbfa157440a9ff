// Issue 11 item 6 on S3 (the fixture's Ceph RGW): a worker whose lease ran out while it
// uploaded never replaces the result of the worker that took the job over. The winner's result
// stands at PRODUCT.md's key processed/<job-id>/<name> (8D).<ext>, the loser's upload is gone.
// A real worker pool and render, a real bucket, the SQLite queue.
#include <gtest/gtest.h>
#include <sqlite3.h>
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
#include "tests/support/temp_dir.h"
#include "worker/worker_pool.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::map<std::string, std::string> rgw_env() {
  const char* state = std::getenv("SY_TEST_SCALEOUT_STATE");
  if (!state) throw std::runtime_error("SY_TEST_SCALEOUT_STATE is not set: run through ctest");
  return sy::testing::read_env_file(std::string(state) + "/rgw/env");
}

TEST(S3LeaseRace, AWorkerThatLostItsLeaseNeverReplacesTheWinnersResult) {
  const auto rgw = rgw_env();
  ASSERT_TRUE(rgw.count("RGW_ENDPOINT")) << "RGW is not running";
  sy::storage::S3ObjectStore store(
      sy::testing::rgw_store_options(rgw, "sy-lease-race-" + std::to_string(::getpid())));
  store.ensure_bucket();

  sy::testing::TempDir dir;
  const fs::path db = dir.path() / "queue.db";
  sy::queue::SqliteJobQueue queue(db);
  sy::testing::queue_sine_job(queue, store, dir.path(), "race", 3, R"({"format":"mp3"})");

  const fs::path winner_bytes = dir.path() / "winner.bin";
  std::ofstream(winner_bytes) << std::string(23456, 'w');
  sy::testing::StoreWhereTheLeaseIsLostDuringUpload racing(
      store, queue,
      sy::testing::take_over_in_sqlite(db),
      winner_bytes);
  std::mutex m;
  std::string outcome;
  sy::worker::WorkerPoolOptions o;
  o.lease = 3s;
  o.poll = 50ms;
  o.scratch_dir = dir.path() / "scratch";
  sy::worker::WorkerPool pool(o, queue, racing,
                              [&](const sy::queue::Job&, std::string_view what, double, double) {
                                std::lock_guard lock(m);
                                outcome = what;
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
  EXPECT_EQ(outcome, "abandoned");
  const auto job = queue.get("race");
  ASSERT_TRUE(job && job->result);
  EXPECT_EQ(job->status, sy::queue::JobStatus::kDone);
  EXPECT_EQ(job->result->key, "processed/race/race (8D).mp3") << "PRODUCT.md's key";
  const auto info = store.stat(job->result->key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 23456) << "the winner's bytes, not the loser's render";
  EXPECT_EQ(racing.loser_moves, 0) << "the loser never touched the result key";
  EXPECT_FALSE(store.stat(racing.loser_key)) << "the loser's upload is deleted";
  EXPECT_TRUE(store.list("attempts/").empty());
  store.remove_prefix("");
}

// The same pool on S3: the result is moved into place (CopyObject, DELETE), then the queue
// refuses to record the completion; the job fails on its only attempt and its result object
// goes with the failure (the embedded store's case is in worker_tests).
TEST(S3ResultFinalisation, AFailureAfterTheResultWasMovedLeavesNoResultObject) {
  const auto rgw = rgw_env();
  ASSERT_TRUE(rgw.count("RGW_ENDPOINT")) << "RGW is not running";
  sy::storage::S3ObjectStore store(
      sy::testing::rgw_store_options(rgw, "sy-unrecorded-" + std::to_string(::getpid())));
  store.ensure_bucket();

  sy::testing::TempDir dir;
  const fs::path db = dir.path() / "queue.db";
  sy::queue::SqliteJobQueue queue(db);
  sy::testing::queue_sine_job(queue, store, dir.path(), "unrecorded", 1, R"({"format":"mp3"})");
  sqlite3* c = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(c,
                         "UPDATE jobs SET max_attempts = 1; "
                         "CREATE TRIGGER refuse_done BEFORE UPDATE OF status ON jobs "
                         "WHEN NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(c);
  sqlite3_close(c);

  std::mutex m;
  std::string outcome;
  sy::worker::WorkerPoolOptions o;
  o.lease = 3s;
  o.poll = 50ms;
  o.scratch_dir = dir.path() / "scratch";
  sy::worker::WorkerPool pool(o, queue, store,
                              [&](const sy::queue::Job&, std::string_view what, double, double) {
                                std::lock_guard lock(m);
                                outcome = what;
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
  EXPECT_EQ(outcome, "failed");
  const auto job = queue.get("unrecorded");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, sy::queue::JobStatus::kFailed);
  // The sentence of a failure at the recording step: the move before it had happened.
  EXPECT_EQ(job->error, "the server could not record the result (an error on the server, not in the file)");
  EXPECT_TRUE(store.list("processed/").empty());
  EXPECT_TRUE(store.list("attempts/").empty());
  EXPECT_TRUE(store.stat(job->upload_key)) << "the upload stays for a rerender";
  store.remove_prefix("");
}

}  // namespace
