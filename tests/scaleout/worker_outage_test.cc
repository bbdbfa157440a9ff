// PostgreSQL stopped while a worker renders: the worker neither fails the job nor renders it
// twice; when the database returns, the job is done at its first attempt. A real worker pool,
// the fixture's real PostgreSQL (stopped and started again), a real render.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "queue/postgres/postgres_queue.h"
#include "storage/keys.h"
#include "storage/local/local_store.h"
#include "tests/support/postgres_restart.h"
#include "tests/support/postgres_schema.h"
#include "tests/support/process.h"
#include "tests/support/queued_job.h"
#include "tests/support/temp_dir.h"
#include "worker/worker_pool.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(WorkerOutage, ADatabaseOutageMidRenderCostsNoAttempt) {
  sy::queue::PostgresJobQueue queue(
      sy::testing::url_with_fresh_schema(sy::testing::postgres_url(), "sy_outage_" + std::to_string(::getpid())), 3);
  sy::testing::TempDir dir;
  sy::storage::LocalStoreOptions so;
  so.root = dir.path() / "data";
  so.public_url = "http://127.0.0.1:1";
  so.credentials = {"local", "a-long-random-secret", "us-east-1", "s3"};
  sy::storage::LocalObjectStore store(so);

  sy::testing::queue_sine_job(queue, store, dir.path(), "outage", 40, R"({"format":"mp3"})");

  sy::worker::WorkerPoolOptions o;
  o.lease = 20s;
  o.poll = 200ms;
  o.scratch_dir = dir.path() / "scratch";
  sy::worker::WorkerPool pool(o, queue, store);
  pool.start();
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (pool.busy() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(pool.busy(), 1) << "the render started";

  sy::testing::PostgresRestart server(sy::testing::postgres_url());
  server.stop();
  std::this_thread::sleep_for(4s);  // progress, renewals and perhaps the result meet the outage
  server.start();

  std::optional<sy::queue::Job> done;
  while (std::chrono::steady_clock::now() < until + 60s) {
    try {
      done = queue.get("outage");
      if (done && sy::queue::is_final(done->status)) break;
    } catch (const std::exception&) {  // reconnecting
    }
    std::this_thread::sleep_for(100ms);
  }
  pool.stop();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, sy::queue::JobStatus::kDone) << done->error;
  EXPECT_EQ(done->attempts, 1) << "the outage cost no attempt and no second render";
  ASSERT_TRUE(done->result);
  EXPECT_TRUE(store.stat(done->result->key));
  EXPECT_EQ(store.list("processed/outage/").size(), 1u);
}

}  // namespace
