#include "service/janitor.h"

#include <gtest/gtest.h>

#include "tests/support/local_store.h"
#include "tests/support/temp_dir.h"

#include <fstream>
#include <thread>

#include "queue/sqlite/sqlite_queue.h"
#include "storage/local/local_store.h"

namespace sy::service {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class JanitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = tmp.path();
    queue = std::make_unique<queue::SqliteJobQueue>(dir / "queue.db");
    store = testing::local_store(dir / "store");
    src = dir / "bytes.bin";
    std::ofstream(src) << "12345";
  }

  void add_job(const std::string& id, bool uploaded, bool done) {
    queue::NewJob j{id, "h", "a.mp3", "uploads/" + id + "/a.mp3", 5, "{}", 3};
    queue->create(j);
    if (!uploaded) return;
    store->upload_from_file(j.upload_key, src);
    queue->enqueue(id);
    if (!done) return;
    ASSERT_EQ(queue->claim("w", 10s)->id, id);
    store->upload_from_file("processed/" + id + "/a (8D).mp3", src);
    queue->complete(id, "w", {"processed/" + id + "/a (8D).mp3", 5, 1, "mp3", 1});
    // An attempt's upload whose delete failed after its move (S3 copies, then deletes).
    store->upload_from_file("attempts/" + id + "/1-x/a (8D).mp3", src);
  }

  testing::TempDir tmp;  // first, so it goes last, after the queue and store in it
  fs::path dir, src;
  std::unique_ptr<queue::SqliteJobQueue> queue;
  std::unique_ptr<storage::LocalObjectStore> store;
};

TEST_F(JanitorTest, ExpiresUploadsThenRemovesJobsPastRetention) {
  add_job("waiting", false, false);
  add_job("done", true, true);
  add_job("queued", true, false);
  store->upload_from_file("uploads/orphan/x.mp3", src);
  store->upload_from_file("attempts/orphan/2-y/x (8D).mp3", src);  // a deleted job's attempt
  Janitor janitor({24h, 15min, 60s, 60s}, *queue, *store, store.get());

  auto r = janitor.run_once(storage::Clock::now());
  EXPECT_EQ(r.uploads_expired + r.jobs_removed + r.orphans_removed, 0u) << "nothing is old yet";

  r = janitor.run_once(storage::Clock::now() + 20min);
  EXPECT_EQ(r.uploads_expired, 1u);
  EXPECT_EQ(queue->get("waiting")->status, queue::JobStatus::kExpired);
  EXPECT_EQ(r.orphans_removed, 2u);
  EXPECT_FALSE(store->stat("uploads/orphan/x.mp3"));
  EXPECT_FALSE(store->stat("attempts/orphan/2-y/x (8D).mp3"));
  EXPECT_EQ(queue->get("queued")->status, queue::JobStatus::kQueued) << "queued work is never touched";

  r = janitor.run_once(storage::Clock::now() + 25h);
  EXPECT_EQ(r.jobs_removed, 2u);  // the done and the expired job
  EXPECT_FALSE(queue->get("done"));
  EXPECT_FALSE(queue->get("waiting"));
  EXPECT_TRUE(store->list("processed/").empty());
  EXPECT_TRUE(store->list("attempts/").empty());
  EXPECT_TRUE(queue->get("queued"));
  EXPECT_TRUE(store->stat("uploads/queued/a.mp3"));
}

// A scaled-out worker that died between moving its result into place and recording the job
// done, on the job's last attempt: the job fails when a claim finds its lease run out, with
// no one there to remove the result. The next sweep does; a done job's result stays.
TEST_F(JanitorTest, AFailedJobLosesTheResultItsDeadWorkerMovedIntoPlace) {
  add_job("done", true, true);
  queue->create({"lost", "h", "a.mp3", "uploads/lost/a.mp3", 5, "{}", 1});
  store->upload_from_file("uploads/lost/a.mp3", src);
  ASSERT_TRUE(queue->enqueue("lost"));
  ASSERT_EQ(queue->claim("dead", 50ms)->id, "lost");
  store->upload_from_file("processed/lost/a (8D).mp3", src);
  store->upload_from_file("attempts/lost/1-x/a (8D).mp3", src);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(queue->claim("w", 10s));
  ASSERT_EQ(queue->get("lost")->status, queue::JobStatus::kFailed);

  Janitor janitor({24h, 15min, 60s, 60s}, *queue, *store, store.get());
  const auto r = janitor.run_once(storage::Clock::now());
  EXPECT_EQ(r.failed_results_removed, 2u);
  EXPECT_TRUE(store->list("processed/lost/").empty());
  EXPECT_TRUE(store->list("attempts/lost/").empty());
  EXPECT_TRUE(store->stat("uploads/lost/a.mp3")) << "a rerender may still read the upload";
  EXPECT_TRUE(store->stat("processed/done/a (8D).mp3"));
}

}  // namespace
}  // namespace sy::service
