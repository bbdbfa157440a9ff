#include "queue/postgres/postgres_queue.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "base/errors.h"
#include "queue/queue_conformance_test.h"
#include "queue/queue_factory.h"
#include "tests/support/postgres_restart.h"

namespace sy::queue {
namespace {

using namespace std::chrono_literals;

// Each test process gets its own schema, so ctest may run tests in parallel on one server.
std::string schema() { return "sy_test_" + std::to_string(::getpid()); }
std::string test_url() { return sy::testing::postgres_url() + "?options=-csearch_path%3D" + schema(); }

class RawConnection {
 public:
  RawConnection() : c_(PQconnectdb(sy::testing::postgres_url().c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c_));
  }
  ~RawConnection() { PQfinish(c_); }
  void exec(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const auto st = PQresultStatus(r);
    const std::string err = PQresultErrorMessage(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error(sql + ": " + err);
  }
  // The first column of every row, one row a line.
  std::string lines(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    std::string out;
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
      for (int i = 0; i < PQntuples(r); ++i) out += std::string(PQgetvalue(r, i, 0)) + "\n";
    else
      out = PQresultErrorMessage(r);
    PQclear(r);
    return out;
  }

 private:
  PGconn* c_;
};

void reset_schema() {
  RawConnection c;
  c.exec("DROP SCHEMA IF EXISTS " + schema() + " CASCADE");
  c.exec("CREATE SCHEMA " + schema());
}

void drop_failure_kind() {
  RawConnection c;
  c.exec("ALTER TABLE " + schema() + ".sy_jobs DROP COLUMN failed_permanently; DELETE FROM " +
         schema() + ".sy_schema_migrations WHERE version >= 4");
}

using testing::JobQueueConformance;
INSTANTIATE_TEST_SUITE_P(Postgres, JobQueueConformance,
                         ::testing::Values(testing::QueueBackend{
                             "Postgres", reset_schema,
                             [] { return std::make_unique<PostgresJobQueue>(test_url(), 2); },
                             drop_failure_kind}),
                         testing::backend_name);

NewJob job(const std::string& id) {
  NewJob j;
  j.id = id;
  j.token_hash = "h";
  j.filename = "a.mp3";
  j.upload_key = "uploads/" + id + "/a.mp3";
  j.size = 1;
  j.settings_json = "{}";
  return j;
}

TEST(PostgresQueue, MigratesOnceEvenWhenManyProcessesStartTogether) {
  reset_schema();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      PostgresJobQueue q(test_url(), 1);
      if (q.schema_version() == PostgresJobQueue::latest_schema_version()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

// An upgrade's ALTER TABLE needs the table to itself. Queued behind a long transaction (a
// report, a backup), it would hold every other query on the table behind it: the API's
// requests would time out until that transaction ended. It steps back instead.
TEST(PostgresQueue, AnUpgradeWaitingForALongTransactionDoesNotStallTheQueue) {
  reset_schema();
  { PostgresJobQueue q(test_url(), 1); }
  drop_failure_kind();  // back to schema 3: the next start migrates
  RawConnection reader;
  reader.exec("BEGIN");
  reader.exec("SELECT count(*) FROM " + schema() + ".sy_jobs");  // holds the table until COMMIT
  std::atomic<int> version{0};
  std::thread upgrade([&] {
    PostgresJobQueue upgraded(test_url(), 1);
    version = upgraded.schema_version();
  });
  RawConnection request;
  request.exec("SET statement_timeout = '3s'");  // a request stuck behind the ALTER fails
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(300ms);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_NO_THROW(request.exec("SELECT count(*) FROM " + schema() + ".sy_jobs"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "probe " << i;
  }
  EXPECT_EQ(version.load(), 0) << "the upgrade waits for the long transaction";
  reader.exec("COMMIT");
  upgrade.join();
  EXPECT_EQ(version.load(), PostgresJobQueue::latest_schema_version());
}

TEST(PostgresQueue, RefusesASchemaFromANewerBinary) {
  reset_schema();
  { PostgresJobQueue q(test_url(), 1); }
  RawConnection c;
  c.exec("INSERT INTO " + schema() + ".sy_schema_migrations (version) VALUES (" +
         std::to_string(PostgresJobQueue::latest_schema_version() + 1) + ")");
  EXPECT_THROW(PostgresJobQueue q(test_url(), 1), std::runtime_error);
}

TEST(PostgresQueue, ClaimSkipsRowsLockedByAnotherTransaction) {
  reset_schema();
  PostgresJobQueue q(test_url(), 1);
  for (const char* id : {"a", "b"}) {
    q.create(job(id));
    q.enqueue(id);
    std::this_thread::sleep_for(2ms);
  }
  // Another worker is in the middle of taking "a": its row is locked.
  RawConnection other;
  other.exec("BEGIN");
  other.exec("SELECT id FROM " + schema() + ".sy_jobs WHERE id = 'a' FOR UPDATE");
  const auto start = std::chrono::steady_clock::now();
  const auto j = q.claim("w", 10s);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(j);
  EXPECT_EQ(j->id, "b") << "SKIP LOCKED passes over the locked row";
  EXPECT_LT(waited, 1s) << "and does not wait for it";
  other.exec("ROLLBACK");
  EXPECT_EQ(q.claim("w", 10s)->id, "a");
}

// Deleting a job asks whether a live job still reads its upload; done jobs pile up over the
// retention time, so the question must not read the whole table. (The table is small here, so
// the planner is told to avoid a sequential scan wherever an index can serve.)
TEST(PostgresQueue, UploadInUseSearchesAnIndexOfLiveJobs) {
  reset_schema();
  { PostgresJobQueue q(test_url(), 1); }
  RawConnection c;
  c.exec("SET enable_seqscan = off");
  const std::string plan =
      c.lines("EXPLAIN SELECT 1 FROM " + schema() +
              ".sy_jobs WHERE upload_key = 'uploads/a/a.mp3' "
              "AND status IN ('awaiting_upload', 'queued', 'processing') LIMIT 1");
  EXPECT_NE(plan.find("sy_jobs_upload"), std::string::npos) << plan;
}

TEST(PostgresQueue, ListenNotifyWakesAWatcherWithoutPolling) {
  reset_schema();
  auto producer = open_queue({"postgres", test_url(), {}, 1});
  std::mutex m;
  std::condition_variable cv;
  int wakes = 0;
  // A fallback of a minute: any wake-up within the test comes from a notification.
  auto watch = watch_for_work({"postgres", test_url(), {}, 1}, [&] {
    std::lock_guard lock(m);
    ++wakes;
    cv.notify_all();
  }, 60s);
  ASSERT_TRUE(watch);
  {
    std::unique_lock lock(m);  // the watcher reports once when it has connected
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return wakes >= 1; }));
  }
  std::this_thread::sleep_for(100ms);
  const int before = wakes;
  producer->create(job("x"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(wakes, before) << "a job awaiting its upload is no work";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(producer->enqueue("x"));
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return wakes > before; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

// Two API servers on one queue: the task's turn goes to one at a time, is free again when its
// holder ends it or dies, and other tasks and other schemas are not affected.
TEST(PostgresQueue, ExclusiveTurnGoesToOneProcessAtATime) {
  reset_schema();
  PostgresJobQueue a(test_url(), 1), b(test_url(), 1);
  {
    const auto turn = a.try_exclusive("janitor");
    ASSERT_TRUE(turn);
    EXPECT_FALSE(b.try_exclusive("janitor")) << "held by a";
    EXPECT_FALSE(a.try_exclusive("janitor")) << "held even against its own process";
    EXPECT_TRUE(b.try_exclusive("reports")) << "another task";
    RawConnection c;
    c.exec("CREATE SCHEMA IF NOT EXISTS " + schema() + "_other");
    PostgresJobQueue other(sy::testing::postgres_url() + "?options=-csearch_path%3D" + schema() + "_other", 1);
    EXPECT_TRUE(other.try_exclusive("janitor")) << "another schema, another deployment";
    c.exec("DROP SCHEMA " + schema() + "_other CASCADE");
  }
  auto turn = b.try_exclusive("janitor");
  EXPECT_TRUE(turn) << "free once a ended its turn";
  // The holder dies: its connection goes, and so does its turn.
  RawConnection admin;
  admin.exec("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND "
             "classid = 72361521 AND objid = (hashtext('" + schema() +
             "/janitor')::bigint & 4294967295)::oid");
  bool taken = false;
  for (int i = 0; i < 50 && !taken; ++i) {
    taken = a.try_exclusive("janitor") != nullptr;
    if (!taken) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(taken) << "a dead holder's turn is free";
  turn.reset();  // its connection is gone: ending the turn must not throw
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// A statement that waits on a lock is ended at the deadline, on both sides: the caller's
// thread is free after ~2 s, and the server does not keep the statement running.
TEST(PostgresQueue, NoCallHoldsItsThreadPastTheDeadline) {
  reset_schema();
  PostgresJobQueue q(test_url(), 2, 1500ms);
  q.create(job("a"));
  RawConnection blocker;
  blocker.exec("SET search_path = " + schema());
  blocker.exec("BEGIN");
  blocker.exec("LOCK TABLE sy_jobs IN ACCESS EXCLUSIVE MODE");
  std::vector<std::thread> callers;
  std::atomic<int> unavailable{0};
  std::atomic<double> slowest{0};
  const auto start = std::chrono::steady_clock::now();
  // More callers than connections: those waiting for one are bounded too.
  for (int i = 0; i < 5; ++i) {
    callers.emplace_back([&] {
      try {
        q.get("a");
      } catch (const base::Unavailable&) {
        ++unavailable;
      }
      double s = seconds_since(start), seen = slowest.load();
      while (s > seen && !slowest.compare_exchange_weak(seen, s)) {
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(unavailable.load(), 5);
  EXPECT_LT(slowest.load(), 2.5) << "a call held its thread past the deadline";
  blocker.exec("ROLLBACK");
  ASSERT_TRUE(q.get("a")) << "the queue works again once the lock is gone";
}

// PostgreSQL stopped mid-flow: calls fail at once as Unavailable (a refused connection), and
// everything works again when it returns, without restarting the process.
TEST(PostgresQueue, ADatabaseOutageIsUnavailableAndRecoversByItself) {
  reset_schema();
  PostgresJobQueue q(test_url(), 2);
  q.create(job("a"));
  ASSERT_TRUE(q.enqueue("a"));
  sy::testing::PostgresRestart server(sy::testing::postgres_url());
  server.stop();
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(q.get("a"), base::Unavailable);
    EXPECT_THROW(q.claim("w", 10s), base::Unavailable);
    EXPECT_LT(seconds_since(start), 4.5) << "two calls, each within its 2 s deadline";
  }
  server.start();
  std::optional<Job> claimed;
  for (int i = 0; i < 50 && !claimed; ++i) {
    try {
      claimed = q.claim("w", 10s);
    } catch (const base::Unavailable&) {  // the server may still be starting
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, "a");
  EXPECT_TRUE(q.complete("a", "w", JobResult{"processed/a/1-x/a (8D).mp3", 1, 1, "mp3", 1}));
}

TEST(PostgresQueue, FactoryRejectsUnknownBackendsAndMissingUrls) {
  EXPECT_THROW(open_queue({"mysql", "x", {}, 1}), std::invalid_argument);
  EXPECT_THROW(open_queue({"postgres", "", {}, 1}), std::invalid_argument);
  EXPECT_THROW(open_queue({"postgres", "postgresql://nobody@127.0.0.1:1/none", {}, 1}),
               std::runtime_error);
}

}  // namespace
}  // namespace sy::queue
