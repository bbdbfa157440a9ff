#include "queue/sqlite/sqlite_queue.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <filesystem>
#include <thread>
#include <vector>

#include "queue/queue_conformance_test.h"

namespace sy::queue {
namespace {

namespace fs = std::filesystem;

fs::path test_db() {
  return fs::temp_directory_path() / ("sy_queue_" + std::to_string(::getpid())) / "queue.db";
}

void reset_db() {
  fs::remove_all(test_db().parent_path());
}

void drop_failure_kind() {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(test_db().c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "ALTER TABLE jobs DROP COLUMN failed_permanently; PRAGMA user_version=3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

using testing::JobQueueConformance;
INSTANTIATE_TEST_SUITE_P(Sqlite, JobQueueConformance,
                         ::testing::Values(testing::QueueBackend{
                             "Sqlite", reset_db,
                             [] { return std::make_unique<SqliteJobQueue>(test_db()); },
                             drop_failure_kind}),
                         testing::backend_name);

TEST(SqliteQueue, MigratesToTheLatestSchemaAndUsesWal) {
  reset_db();
  {
    SqliteJobQueue q(test_db());
    EXPECT_EQ(q.schema_version(), SqliteJobQueue::latest_schema_version());
  }
  SqliteJobQueue again(test_db());  // migrating twice is a no-op
  EXPECT_EQ(again.schema_version(), SqliteJobQueue::latest_schema_version());
  EXPECT_TRUE(fs::exists(test_db().string() + "-wal"));
}

TEST(SqliteQueue, OnlyTheServiceUserReadsTheDatabase) {
  reset_db();
  SqliteJobQueue q(test_db());
  q.create(NewJob{"a", "h", "song.mp3", "uploads/a/song.mp3", 10, "{}", 3});
  for (const char* suffix : {"", "-wal", "-shm", "-changes"}) {
    struct stat st {};
    ASSERT_EQ(::stat((test_db().string() + suffix).c_str(), &st), 0) << suffix;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << suffix;
  }
}

// Deleting a job asks whether a live job still reads its upload; done jobs pile up over the
// retention time, so the question must not read the whole table.
TEST(SqliteQueue, UploadInUseSearchesAnIndexOfLiveJobs) {
  reset_db();
  { SqliteJobQueue q(test_db()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(test_db().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT 1 FROM jobs WHERE upload_key = ?1 "
                               "AND status IN ('awaiting_upload', 'queued', 'processing') LIMIT 1",
                               -1, &st, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW)
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_NE(plan.find("USING INDEX jobs_upload"), std::string::npos) << plan;
}

// Two `serve`s on one data directory: the janitor's turn is held by a process, and freed by
// the kernel when that process dies without ending it.
TEST(SqliteQueue, ADeadProcessLosesItsExclusiveTurn) {
  reset_db();
  const fs::path db = test_db();  // named after this process: the child must use the same
  SqliteJobQueue q(db);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    SqliteJobQueue mine(db);
    auto turn = mine.try_exclusive("janitor");
    const char c = turn ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    for (;;) ::pause();
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_EQ(c, 'y');
  EXPECT_FALSE(q.try_exclusive("janitor")) << "another process holds it";
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(q.try_exclusive("janitor")) << "its holder is gone";
}

TEST(SqliteQueue, RefusesADatabaseFromANewerBinary) {
  reset_db();
  { SqliteJobQueue q(test_db()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(test_db().c_str(), &db), SQLITE_OK);
  const std::string sql =
      "PRAGMA user_version=" + std::to_string(SqliteJobQueue::latest_schema_version() + 1);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(SqliteJobQueue q(test_db()), std::runtime_error);
  reset_db();
}

NewJob new_job(const std::string& id, int max_attempts = 3) {
  NewJob j;
  j.id = id;
  j.token_hash = "hash-" + id;
  j.filename = id + ".mp3";
  j.upload_key = "uploads/" + id + "/song.mp3";
  j.size = 1000;
  j.settings_json = R"({"preset":"classic"})";
  j.max_attempts = max_attempts;
  return j;
}

// Reads twice, so the second read is the one a cached row would answer.
Job read(SqliteJobQueue& q, const std::string& id) {
  q.get(id);
  auto job = q.get(id);
  EXPECT_TRUE(job) << id;
  return job.value_or(Job{});
}

// A worker beside `serve --workers 0` learns of a queued job from the other process at once,
// not at its next poll: the fallback here is a minute, the test waits at most 5 s per wake.
TEST(SqliteQueue, AWatcherWakesWhenAnotherProcessQueuesAJob) {
  reset_db();
  const fs::path db = test_db();  // the child's pid would name another folder
  { SqliteJobQueue migrate(db); }  // no connection of the parent's crosses the fork
  std::mutex m;
  std::condition_variable cv;
  int wakes = 0;
  SqliteWorkWatcher watcher(db, [&] {
    std::lock_guard lock(m);
    ++wakes;
    cv.notify_all();
  }, std::chrono::minutes(1));
  auto wait_for_wakes = [&](int n) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return wakes >= n; });
  };
  ASSERT_TRUE(wait_for_wakes(1)) << "one look at the queue when the watch begins";
  // Another process: queues a job, works on it (progress, a renewal), hands it back, and
  // fails a second attempt back into the queue; each step waits for the parent's go.
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(go[1]);
    ::close(done[0]);
    try {
      SqliteJobQueue other(db);
      char c = 0;
      auto step = [&] {
        if (::write(done[1], "k", 1) != 1 || ::read(go[0], &c, 1) != 1) ::_exit(1);
      };
      other.create(new_job("a"));
      other.enqueue("a");
      step();
      other.claim("w1", std::chrono::minutes(1));
      for (int i = 1; i <= 5; ++i) other.report_progress("a", "w1", i / 10.0, "rendering");
      other.renew("a", "w1", std::chrono::minutes(1));
      step();
      other.release("a", "w1");
      step();
      other.claim("w2", std::chrono::minutes(1));
      other.fail("a", "w2", "decoder broke", false);
      if (::write(done[1], "k", 1) != 1) ::_exit(1);  // the last step: nothing more to wait for
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  ::close(go[0]);
  ::close(done[1]);
  auto child_did_a_step = [&] {
    char c = 0;
    return ::read(done[0], &c, 1) == 1;
  };
  auto next_step = [&] { return ::write(go[1], "g", 1) == 1; };
  bool ok = child_did_a_step();  // created and queued
  EXPECT_TRUE(ok && wait_for_wakes(2)) << "not woken for a queued job";
  ok = ok && next_step() && child_did_a_step();  // claimed, progress, renewal: nothing to claim
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  {
    std::lock_guard lock(m);
    EXPECT_EQ(wakes, 2) << "woken by writes that queue nothing";
  }
  ok = ok && next_step() && child_did_a_step();  // handed back
  EXPECT_TRUE(ok && wait_for_wakes(3)) << "not woken for a job handed back";
  ok = ok && next_step() && child_did_a_step();  // failed back into the queue for another attempt
  EXPECT_TRUE(ok && wait_for_wakes(4)) << "not woken for a job to try again";
  ::close(go[1]);  // the child's last read ends
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(done[0]);
  EXPECT_TRUE(ok) << "the writer process stopped early";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(watcher.wake_ups(), 3u);
}

// Rows are cached between writes: every write path must make the next read see it.
TEST(SqliteQueue, EveryWriteIsSeenByTheNextRead) {
  reset_db();
  SqliteJobQueue q(test_db());
  q.create(new_job("a"));
  EXPECT_EQ(read(q, "a").status, JobStatus::kAwaitingUpload);
  ASSERT_TRUE(q.enqueue("a"));
  EXPECT_EQ(read(q, "a").status, JobStatus::kQueued);
  ASSERT_TRUE(q.claim("w1", std::chrono::minutes(1)));
  const auto claimed = read(q, "a");
  EXPECT_EQ(claimed.status, JobStatus::kProcessing);
  EXPECT_EQ(claimed.lease_owner, "w1");
  for (int i = 1; i <= 5; ++i) {  // progress: what status polls watch
    ASSERT_TRUE(q.report_progress("a", "w1", i / 10.0, "rendering " + std::to_string(i)));
    const auto job = read(q, "a");
    EXPECT_DOUBLE_EQ(job.progress, i / 10.0);
    EXPECT_EQ(job.stage, "rendering " + std::to_string(i));
  }
  ASSERT_TRUE(q.renew("a", "w1", std::chrono::hours(2)));
  EXPECT_GT(read(q, "a").lease_expires, claimed.lease_expires + std::chrono::minutes(30));
  ASSERT_TRUE(q.release("a", "w1"));
  EXPECT_EQ(read(q, "a").status, JobStatus::kQueued);
  ASSERT_TRUE(q.claim("w2", std::chrono::minutes(1)));
  EXPECT_EQ(read(q, "a").lease_owner, "w2");
  ASSERT_EQ(q.fail("a", "w2", "decoder broke", false), JobStatus::kQueued);
  EXPECT_EQ(read(q, "a").error, "decoder broke");
  ASSERT_TRUE(q.claim("w3", std::chrono::minutes(1)));
  EXPECT_EQ(read(q, "a").attempts, 2);
  ASSERT_TRUE(q.complete("a", "w3", JobResult{"processed/a/a (8D).mp3", 4321, 58.4, "mp3", 3.5}));
  const auto done = read(q, "a");
  EXPECT_EQ(done.status, JobStatus::kDone);
  ASSERT_TRUE(done.result);
  EXPECT_EQ(done.result->bytes, 4321);

  // Lease expiry: the next claim dead-letters a job whose last attempt's lease ran out.
  q.create(new_job("b", 1));
  ASSERT_TRUE(q.enqueue("b"));
  ASSERT_TRUE(q.claim("w1", std::chrono::milliseconds(1)));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(read(q, "b").status, JobStatus::kProcessing);
  EXPECT_FALSE(q.claim("w2", std::chrono::minutes(1)));
  EXPECT_EQ(read(q, "b").status, JobStatus::kFailed);

  // The janitor: expired uploads and deletes.
  q.create(new_job("c"));
  EXPECT_EQ(read(q, "c").status, JobStatus::kAwaitingUpload);
  EXPECT_EQ(q.expire_uploads(Clock::now() + std::chrono::hours(1)), std::vector<std::string>{"c"});
  EXPECT_EQ(read(q, "c").status, JobStatus::kExpired);
  ASSERT_TRUE(q.remove("a"));
  EXPECT_FALSE(q.get("a"));
  q.create(new_job("a"));  // an id can come back: the new row, not the deleted one
  EXPECT_EQ(read(q, "a").status, JobStatus::kAwaitingUpload);
}

// Another SqliteJobQueue on the file (as another process would have) signals its writes
// through the shared counter; a writer that does not signal is seen within the max age.
TEST(SqliteQueue, WritesOfOtherConnectionsAreSeen) {
  reset_db();
  SqliteJobQueue a(test_db());
  SqliteJobQueue b(test_db());
  a.create(new_job("j"));
  ASSERT_TRUE(a.enqueue("j"));
  ASSERT_TRUE(b.claim("w", std::chrono::minutes(1)));
  EXPECT_EQ(read(a, "j").status, JobStatus::kProcessing);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(b.report_progress("j", "w", i / 4.0, "rendering"));
    EXPECT_DOUBLE_EQ(read(a, "j").progress, i / 4.0);
  }

  const auto cached_at = std::chrono::steady_clock::now();
  EXPECT_DOUBLE_EQ(read(a, "j").progress, 0.75);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(test_db().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE jobs SET progress = 0.875 WHERE id = 'j'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const double right_after = a.get("j")->progress;
  // The cache is in use (else the tests above prove nothing), as long as the read came
  // within the max age (a stall of the machine could delay it).
  if (std::chrono::steady_clock::now() - cached_at < SqliteJobQueue::kRowCacheMaxAge / 2) {
    EXPECT_DOUBLE_EQ(right_after, 0.75);
  }
  std::this_thread::sleep_for(SqliteJobQueue::kRowCacheMaxAge + std::chrono::milliseconds(5));
  EXPECT_DOUBLE_EQ(a.get("j")->progress, 0.875);
}

// Reads racing writes: a read that starts after a write returned sees it (a reader that read
// the old row while the write committed must not leave it cached as current).
TEST(SqliteQueue, ReadsRacingWritesNeverGoBack) {
  reset_db();
  SqliteJobQueue q(test_db());
  q.create(new_job("r"));
  ASSERT_TRUE(q.enqueue("r"));
  ASSERT_TRUE(q.claim("w", std::chrono::minutes(1)));
  constexpr int kWrites = 300;
  std::atomic<int> published{0};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<long> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const int before = published.load();
        const auto job = q.get("r");
        if (!job || job->progress < before / double(kWrites)) ++violations;
        ++reads;
      }
    });
  }
  for (int i = 1; i <= kWrites; ++i) {
    ASSERT_TRUE(q.report_progress("r", "w", i / double(kWrites), "rendering"));
    published.store(i);
    std::this_thread::yield();
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0) << "of " << reads.load() << " reads";
  EXPECT_GT(reads.load(), kWrites);
  EXPECT_DOUBLE_EQ(q.get("r")->progress, 1.0);
}

}  // namespace
}  // namespace sy::queue
