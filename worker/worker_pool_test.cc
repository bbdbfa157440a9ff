#include "worker/worker_pool.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "io/decoder.h"
#include "io/test_bombs.h"
#include "queue/sqlite/sqlite_queue.h"
#include "storage/keys.h"
#include "storage/local/local_store.h"
#include "tests/support/small_filesystem.h"

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
  std::unique_ptr<WorkerPool> pool;
  std::mutex m;
  std::vector<std::pair<std::string, std::string>> outcomes;
};

TEST_F(WorkerPoolTest, RendersAJobIntoItsProcessedKey) {
  submit_sine("job1", 6, R"({"format":"mp3"})");
  start();
  const auto j = wait_for("job1", [](const queue::Job& x) { return queue::is_final(x.status); });
  ASSERT_EQ(j.status, queue::JobStatus::kDone) << j.error;
  ASSERT_TRUE(j.result);
  // processed/<job>/<attempt>/<name> (8D).<ext>: the attempt's own key, the download's name.
  EXPECT_EQ(j.result->key.rfind("processed/job1/1-", 0), 0u) << j.result->key;
  EXPECT_EQ(storage::key_basename(j.result->key), "job1 (8D).mp3");
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
  const auto j = wait_for("junk", [](const queue::Job& x) { return queue::is_final(x.status); });
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
  const auto j = wait_for("bomb", [](const queue::Job& x) { return queue::is_final(x.status); });
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
}

// A store that, once the worker's result is up, lets another worker take the job over and
// finish first, as when this worker's lease ran out while it uploaded.
class StoreWhereTheLeaseIsLostDuringUpload final : public storage::ObjectStore {
 public:
  StoreWhereTheLeaseIsLostDuringUpload(storage::LocalObjectStore& real, queue::SqliteJobQueue& q,
                                       const fs::path& db)
      : real_(real), queue_(q), db_(db) {}
  std::optional<storage::ObjectInfo> stat(const std::string& k) override { return real_.stat(k); }
  std::vector<storage::ObjectInfo> list(const std::string& p) override { return real_.list(p); }
  void remove(const std::string& k) override { real_.remove(k); }
  void remove_prefix(const std::string& p) override { real_.remove_prefix(p); }
  void download_to_file(const std::string& k, const fs::path& d) override { real_.download_to_file(k, d); }
  std::optional<fs::path> local_path(const std::string& k) override { return real_.local_path(k); }
  void set_object_created_handler(storage::ObjectCreatedHandler) override {}
  void upload_from_file(const std::string& key, const fs::path& src) override {
    real_.upload_from_file(key, src);
    if (key.rfind("processed/", 0) != 0) return;
    // The other worker: claims the job (its lease ran out for the first), writes its own
    // result under its own key and completes.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "UPDATE jobs SET lease_owner = 'winner'", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    const std::string id = key.substr(10, key.find('/', 10) - 10);
    winner_key = storage::processed_key(id, "song.wav", "mp3", "2-winner");
    real_.upload_from_file(winner_key, src);
    ASSERT_TRUE(queue_.complete(id, "winner", queue::JobResult{winner_key, 7, 1, "mp3", 1}));
    loser_key = key;
  }
  std::string winner_key, loser_key;

 private:
  storage::PresignedRequest presign(const std::string&, const std::string&, std::chrono::seconds,
                                    storage::QueryParams, storage::HeaderList) const override {
    return {};
  }
  storage::LocalObjectStore& real_;
  queue::SqliteJobQueue& queue_;
  fs::path db_;
};

TEST_F(WorkerPoolTest, AWorkerThatLostItsLeaseNeverReplacesTheWinnersResult) {
  submit_sine("race", 3);
  StoreWhereTheLeaseIsLostDuringUpload racing(*store, *queue, dir / "queue.db");
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
  EXPECT_EQ(j->result->key, racing.winner_key);
  EXPECT_TRUE(store->stat(racing.winner_key)) << "the winner's result stands";
  ASSERT_FALSE(racing.loser_key.empty());
  EXPECT_NE(racing.loser_key, racing.winner_key);
  EXPECT_FALSE(store->stat(racing.loser_key)) << "the loser's object is deleted";
  std::lock_guard lock(m);
  EXPECT_EQ(outcomes.back().second, "abandoned");
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
  const auto after = wait_for("full", [](const queue::Job& x) { return queue::is_final(x.status); });
  EXPECT_EQ(after.status, queue::JobStatus::kDone) << after.error;
  EXPECT_EQ(after.attempts, 1) << "the attempts that met the full disk were not counted";
}

}  // namespace
}  // namespace sy::worker
