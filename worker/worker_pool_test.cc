#include "worker/worker_pool.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "io/decoder.h"
#include "io/test_bombs.h"
#include "queue/sqlite/sqlite_queue.h"
#include "storage/keys.h"
#include "storage/local/local_store.h"
#include "tests/support/lease_race.h"
#include "tests/support/readable_error.h"
#include "tests/support/small_filesystem.h"
#include "tests/support/sqlite_edit.h"

namespace sy::worker {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("sy_worker_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    queue = std::make_unique<queue::SqliteJobQueue>(dir / "queue.db");
    storage::LocalStoreOptions o;
    o.root = dir / "store";
    o.public_url = "http://127.0.0.1:1";
    o.credentials = {"local", "secret", "us-east-1", "s3"};
    store = std::make_unique<storage::LocalObjectStore>(o);
    options.workers = 1;
    options.lease = 3s;
    options.poll = 50ms;
    options.scratch_dir = dir / "scratch";
  }
  void TearDown() override {
    pool.reset();
    fs::remove_all(dir);
  }

  // A stereo sine made by the ffmpeg command-line tool, uploaded as job `id`.
  void submit_sine(const std::string& id, int seconds, const std::string& settings = "{}") {
    const fs::path src = dir / (id + ".wav");
    const std::string cmd = "ffmpeg -loglevel error -y -f lavfi -i sine=frequency=440:duration=" +
                            std::to_string(seconds) + " -ac 2 -ar 44100 '" + src.string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    submit_file(id, src, settings);
  }
  void submit_file(const std::string& id, const fs::path& src, const std::string& settings = "{}") {
    queue::NewJob j;
    j.id = id;
    j.token_hash = "x";
    j.filename = src.filename().string();
    j.upload_key = storage::upload_key(id, j.filename);
    j.size = static_cast<std::int64_t>(fs::file_size(src));
    j.settings_json = settings;
    j.max_attempts = max_attempts;
    queue->create(j);
    store->upload_from_file(j.upload_key, src);
    ASSERT_TRUE(queue->enqueue(id));
  }
  queue::Job wait_for(const std::string& id, std::function<bool(const queue::Job&)> pred,
                      std::chrono::seconds timeout = 60s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      auto j = queue->get(id);
      if (j && pred(*j)) return *j;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "timed out waiting for job " << id;
    return queue->get(id).value_or(queue::Job{});
  }
  queue::Job wait_final(const std::string& id) {
    return wait_for(id, [](const queue::Job& x) { return queue::is_final(x.status); });
  }
  // Runs the pool until job `id` ends: it failed, with a sentence for people, returned here.
  std::string failure_sentence(const std::string& id) {
    start();
    const queue::Job j = wait_final(id);
    EXPECT_EQ(j.status, queue::JobStatus::kFailed);
    EXPECT_TRUE(testing::is_for_people(j.error)) << j.error;
    return j.error;
  }
  void wait_for_outcome(const std::string& id, std::chrono::seconds timeout = 60s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard lock(m);
        for (const auto& [job, outcome] : outcomes)
          if (job == id) return;
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "no outcome reported for job " << id;
  }
  void start() {
    pool = std::make_unique<WorkerPool>(options, *queue, *store,
                                        [this](const queue::Job& j, std::string_view outcome,
                                               double, double) {
                                          std::lock_guard lock(m);
                                          outcomes.emplace_back(j.id, outcome);
                                        });
    pool->start();
  }

  fs::path dir;
  std::unique_ptr<queue::SqliteJobQueue> queue;
  std::unique_ptr<storage::LocalObjectStore> store;
  WorkerPoolOptions options;
  int max_attempts = 3;  // of the jobs submitted
  std::unique_ptr<WorkerPool> pool;
  std::mutex m;
  std::vector<std::pair<std::string, std::string>> outcomes;
};

TEST_F(WorkerPoolTest, RendersAJobIntoItsProcessedKey) {
  submit_sine("job1", 6, R"({"format":"mp3"})");
  start();
  const auto j = wait_final("job1");
  ASSERT_EQ(j.status, queue::JobStatus::kDone) << j.error;
  ASSERT_TRUE(j.result);
  // processed/<job>/<name> (8D).<ext> (PRODUCT.md); the attempt's own upload is gone.
  EXPECT_EQ(j.result->key, "processed/job1/job1 (8D).mp3");
  EXPECT_TRUE(store->list("attempts/").empty());
  EXPECT_EQ(j.attempts, 1);
  const auto info = store->stat(j.result->key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, j.result->bytes);
  EXPECT_NEAR(j.result->duration_seconds, 6.0, 0.2);
  // The result decodes as stereo audio of the same length.
  auto dec = io::Decoder::open(store->local_path(j.result->key)->string());
  EXPECT_EQ(dec->info().channels, 2);
  // The job reads `done` as soon as the queue has it; the worker cleans its scratch folder
  // just after and then reports the outcome.
  wait_for_outcome("job1");
  EXPECT_TRUE(fs::is_empty(options.scratch_dir));
}

TEST_F(WorkerPoolTest, NotAudioFailsAtOnceWithAReadableReason) {
  const fs::path junk = dir / "notes.mp3";
  {
    std::ofstream out(junk);
    for (int i = 0; i < 2000; ++i) out << "this is not audio at all\n";
  }
  submit_file("junk", junk);
  start();
  const auto j = wait_final("junk");
  EXPECT_EQ(j.status, queue::JobStatus::kFailed);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_FALSE(j.error.empty());
  EXPECT_TRUE(store->list("processed/junk/").empty());
}

TEST_F(WorkerPoolTest, ResourceBombFailsAtOnceWithItsReason) {
  // A WAV header claiming 750 MHz: the job's error says why, in the words the CLI uses.
  const fs::path bomb = dir / "bomb.wav";
  testing::bombs::write_file(bomb.string(), testing::bombs::wav(750000017, 2, 4, 2000000));
  submit_file("bomb", bomb);
  start();
  const auto j = wait_final("bomb");
  EXPECT_EQ(j.status, queue::JobStatus::kFailed);
  EXPECT_EQ(j.attempts, 1);
  EXPECT_EQ(j.error, "the audio's sample rate (750000017 Hz) is outside the 8 kHz to 384 kHz a recording can have");
}

TEST_F(WorkerPoolTest, StopHandsTheRunningJobBack) {
  submit_sine("long", 120);
  start();
  wait_for("long", [](const queue::Job& x) { return x.status == queue::JobStatus::kProcessing; });
  std::this_thread::sleep_for(100ms);
  pool->stop();
  const auto j = queue->get("long");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->status, queue::JobStatus::kQueued) << "stage " << j->stage;
  EXPECT_EQ(j->attempts, 0);
  EXPECT_TRUE(fs::is_empty(options.scratch_dir));
}

TEST_F(WorkerPoolTest, CancelStopsTheRender) {
  submit_sine("gone", 120);
  start();
  wait_for("gone", [](const queue::Job& x) { return x.status == queue::JobStatus::kProcessing; });
  queue->remove("gone");
  pool->cancel("gone");
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (pool->busy() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(pool->busy(), 0);
  EXPECT_TRUE(store->list("processed/").empty());
  EXPECT_TRUE(store->list("attempts/").empty());
}

// Another worker takes the job over while this one uploads its result, and finishes first
// (tests/support/lease_race.h): the winner's result stays the job's, under PRODUCT.md's key.
TEST_F(WorkerPoolTest, AWorkerThatLostItsLeaseNeverReplacesTheWinnersResult) {
  submit_sine("race", 3);
  const fs::path winner_bytes = dir / "winner.bin";
  std::ofstream(winner_bytes) << std::string(12345, 'w');
  const fs::path db = dir / "queue.db";
  testing::StoreWhereTheLeaseIsLostDuringUpload racing(
      *store, *queue,
      testing::take_over_in_sqlite(db),
      winner_bytes);
  pool = std::make_unique<WorkerPool>(options, *queue, racing,
                                      [this](const queue::Job& j, std::string_view outcome, double, double) {
                                        std::lock_guard lock(m);
                                        outcomes.emplace_back(j.id, outcome);
                                      });
  pool->start();
  wait_for_outcome("race");
  const auto j = queue->get("race");
  ASSERT_TRUE(j && j->result);
  EXPECT_EQ(j->status, queue::JobStatus::kDone);
  EXPECT_EQ(j->result->key, "processed/race/race (8D).mp3") << "PRODUCT.md's key";
  EXPECT_EQ(j->result->key, racing.result_key);
  const auto info = store->stat(j->result->key);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 12345) << "the winner's bytes, not the loser's render";
  EXPECT_EQ(racing.loser_moves, 0) << "the loser never touched the result key";
  ASSERT_FALSE(racing.loser_key.empty());
  EXPECT_FALSE(store->stat(racing.loser_key)) << "the loser's upload is deleted";
  EXPECT_TRUE(store->list("attempts/race/").empty());
  std::lock_guard lock(m);
  EXPECT_EQ(outcomes.back().second, "abandoned");
}

// Job errors are read by clients: what the server met (a folder it cannot write, a store that
// refuses, a database error) shows as a sentence, the paths, SQL and names only in the log.
TEST_F(WorkerPoolTest, AScratchFolderThatCannotBeMadeLeavesASentenceNotAPath) {
  max_attempts = 1;
  fs::create_directories(options.scratch_dir);
  std::ofstream(options.scratch_dir / "blocked") << "a file where the job's folder would go";
  submit_sine("blocked", 1);
  EXPECT_EQ(failure_sentence("blocked"),
            "the server could not prepare the render (an error on the server, not in the file)");
}

TEST_F(WorkerPoolTest, AStoreThatRefusesTheResultLeavesASentenceNotAPath) {
  max_attempts = 1;
  // The store cannot make the folder of the attempt's upload (a file is in its place).
  std::ofstream(dir / "store" / "objects" / "attempts") << "in the way";
  submit_sine("refused", 1);
  EXPECT_EQ(failure_sentence("refused"),
            "the server could not store the result (an error on the server, not in the file)");
  EXPECT_TRUE(store->list("processed/refused/").empty());
}

TEST_F(WorkerPoolTest, ADatabaseErrorDuringTheRenderLeavesASentenceNotSql) {
  max_attempts = 1;
  submit_sine("dberror", 4);
  // The queue's database refuses every progress report, naming a statement, a file and a host
  // the way a database's own message would.
  testing::edit_sqlite(dir / "queue.db",
                       "CREATE TRIGGER refuse_progress BEFORE UPDATE OF progress ON jobs "
                       "WHEN NEW.progress > 0 AND NEW.status = 'processing' BEGIN SELECT "
                       "RAISE(ABORT, 'SELECT progress FROM jobs: /var/lib/db/queue.db on db.internal'); END");
  const std::string error = failure_sentence("dberror");
  EXPECT_EQ(error.find("db.internal"), std::string::npos) << error;
  EXPECT_EQ(error, "the render failed on the server (an error on the server, not in the file)");
}

// The result is moved into place, then the queue refuses to record the completion: the job
// fails, and its result object goes with the failure (no download without a done job, and
// nothing left for the retention sweep to find a day later). Two attempts: the first one's
// result is replaced by the second's move, and the second's failure removes it.
TEST_F(WorkerPoolTest, AFailureAfterTheResultWasMovedLeavesNoResultObject) {
  max_attempts = 2;
  submit_sine("unrecorded", 1);
  testing::edit_sqlite(dir / "queue.db",
                       "CREATE TRIGGER refuse_done BEFORE UPDATE OF status ON jobs "
                       "WHEN NEW.status = 'done' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
  start();
  const auto j = wait_final("unrecorded");
  // The second attempt's outcome is reported after its clean-up.
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard lock(m);
      if (outcomes.size() == 2) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  {
    std::lock_guard lock(m);
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_EQ(outcomes.back().second, "failed");
  }
  EXPECT_EQ(j.status, queue::JobStatus::kFailed);
  EXPECT_EQ(j.attempts, 2);
  // The sentence of a failure at the recording step: the move before it had happened.
  EXPECT_EQ(j.error, "the server could not record the result (an error on the server, not in the file)");
  EXPECT_TRUE(store->list("processed/unrecorded/").empty());
  EXPECT_TRUE(store->list("attempts/unrecorded/").empty());
  EXPECT_TRUE(store->stat(storage::upload_key("unrecorded", "unrecorded.wav")))
      << "the upload stays for a rerender";
}

// A render that fills the scratch disk is the machine's trouble, not the file's: the job goes
// back without counting the attempt and is rendered once there is room again.
TEST_F(WorkerPoolTest, ARenderMeetingAFullDiskIsRetriedLaterNotFailed) {
  sy::testing::SmallFilesystem disk(96 * 1024);
  if (!disk.available()) GTEST_SKIP() << disk.why_not();
  options.scratch_dir = disk.path() / "scratch";
  options.transient_pause = 200ms;
  submit_sine("full", 6);
  start();
  wait_for_outcome("full");
  {
    std::lock_guard lock(m);
    EXPECT_EQ(outcomes.front().second, "retry");
  }
  auto j = queue->get("full");
  ASSERT_TRUE(j);
  EXPECT_NE(j->status, queue::JobStatus::kFailed) << j->error;
  EXPECT_TRUE(store->list("processed/full/").empty());
  ASSERT_TRUE(disk.resize(64 << 20));  // room again
  const auto after = wait_final("full");
  EXPECT_EQ(after.status, queue::JobStatus::kDone) << after.error;
  EXPECT_EQ(after.attempts, 1) << "the attempts that met the full disk were not counted";
}

}  // namespace
}  // namespace sy::worker
