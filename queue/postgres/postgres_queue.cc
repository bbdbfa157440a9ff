#include "queue/postgres/postgres_queue.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <optional>
#include <cerrno>
#include <stdexcept>
#include <thread>
#include <utility>

#include "base/errors.h"
#include "queue/job_columns.h"

namespace sy::queue {
namespace {

using std::chrono::milliseconds;

constexpr const char* kNotifyChannel = "sy_jobs";
// Any constant: every process migrating the same database takes this lock first.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7236152097)";
// How long a migration's statement waits for a table lock before it steps back (set after
// the advisory lock is held, so processes starting together still wait for each other),
// and the pause before it tries again.
constexpr const char* kMigrationLockWait = "SET LOCAL lock_timeout = '1s'";
constexpr auto kMigrationRetryPause = std::chrono::milliseconds(500);

// Each entry moves the schema one version up; never edit an entry once released.
constexpr const char* kMigrations[] = {
    // 1: the jobs table, and the database's clock in milliseconds (one clock for all machines).
    R"sql(
    CREATE FUNCTION sy_now_ms() RETURNS bigint LANGUAGE sql VOLATILE
      AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
    CREATE TABLE sy_jobs (
      seq bigserial NOT NULL,
      id text PRIMARY KEY,
      token_hash text NOT NULL,
      filename text NOT NULL,
      upload_key text NOT NULL,
      size bigint NOT NULL,
      settings text NOT NULL,
      status text NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 3,
      lease_owner text,
      lease_expires bigint,
      progress double precision NOT NULL DEFAULT 0,
      stage text NOT NULL DEFAULT '',
      error text NOT NULL DEFAULT '',
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      queued_at bigint,
      result_key text,
      result_bytes bigint,
      result_duration double precision,
      result_format text,
      result_wall double precision
    );
    -- Claims scan only live work, oldest first; the janitor scans by state and age.
    CREATE INDEX sy_jobs_claim ON sy_jobs (queued_at, seq) WHERE status IN ('queued', 'processing');
    CREATE INDEX sy_jobs_updated ON sy_jobs (status, updated_at);
    )sql",
    // 2: wake idle workers when a job becomes queued (delivered at commit).
    R"sql(
    CREATE FUNCTION sy_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('sy_jobs', NEW.id);
      RETURN NULL;
    END $$;
    CREATE TRIGGER sy_jobs_queued AFTER INSERT OR UPDATE OF status ON sy_jobs
      FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION sy_jobs_notify();
    )sql",
    // 3: the report measured on the delivered file; live jobs by upload (a rerender reads its
    // source's upload, and deleting a job asks whether one still does).
    R"sql(
    ALTER TABLE sy_jobs ADD COLUMN result_report text;
    CREATE INDEX sy_jobs_upload ON sy_jobs (upload_key)
      WHERE status IN ('awaiting_upload', 'queued', 'processing');
    )sql",
    // 4: whether a failed job was refused (the same upload fails the same way) or ran out of
    // attempts; 0 or 1, read like SQLite's. Jobs that failed before this knew it only by
    // their count: one failed before its last attempt can only have been refused.
    R"sql(
    ALTER TABLE sy_jobs ADD COLUMN failed_permanently integer NOT NULL DEFAULT 0
      CHECK (failed_permanently IN (0, 1));
    UPDATE sy_jobs SET failed_permanently = 1 WHERE status = 'failed' AND attempts < max_attempts;
    )sql",
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// A query's rows, read as text (libpq's default format).
class Rows {
 public:
  explicit Rows(ResultPtr r) : r_(std::move(r)) {}
  int size() const { return PQntuples(r_.get()); }
  int affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n && *n ? std::stoi(n) : 0;
  }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::int64_t int64(int row, int col) const {
    return null(row, col) ? 0 : std::stoll(PQgetvalue(r_.get(), row, col));
  }
  double real(int row, int col) const {
    return null(row, col) ? 0 : std::stod(PQgetvalue(r_.get(), row, col));
  }
  // Row `row` as job_from_row reads it.
  struct Row {
    const Rows& rows;
    int row;
    std::string text(int col) const { return rows.text(row, col); }
    std::int64_t int64(int col) const { return rows.int64(row, col); }
    double real(int col) const { return rows.real(row, col); }
    bool null(int col) const { return rows.null(row, col); }
  };
  Job job(int row) const { return job_from_row(Row{*this, row}); }

 private:
  ResultPtr r_;
};

std::string num(std::int64_t v) { return std::to_string(v); }
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void ignore_notice(void*, const char*) {}  // "relation already exists" and the like

using Steady = std::chrono::steady_clock;

std::string trimmed(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

int remaining_ms(Steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - Steady::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

// Waits until the socket is ready for `events` or the deadline passes (false).
bool wait_socket(int fd, short events, Steady::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Connects without ever waiting past `deadline` (libpq's own connect_timeout counts whole
// seconds per address, and PQconnectdb waits for all of them): the connection is driven by
// PQconnectPoll under our poll(). A refused or timed-out connection is base::Unavailable.
PGconn* connect_within(const std::string& url, Steady::time_point deadline) {
  // The URL's own settings win: they come after these defaults. TCP keepalives find a peer
  // that vanished (a pulled cable) on connections that sit idle in the pool.
  const std::string seconds = std::to_string(std::max(2, (remaining_ms(deadline) + 999) / 1000));
  const char* keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "dbname", nullptr};
  const char* values[] = {seconds.c_str(), "10", "5", "3", url.c_str(), nullptr};
  PGconn* c = PQconnectStartParams(keys, values, 1);
  if (c == nullptr) throw std::bad_alloc();
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  std::string failure;
  while (PQstatus(c) != CONNECTION_BAD) {
    if (state == PGRES_POLLING_OK) {
      PQsetNoticeProcessor(c, ignore_notice, nullptr);
      return c;
    }
    if (state == PGRES_POLLING_FAILED) break;
    if (!wait_socket(PQsocket(c), state == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
      failure = "no answer in time";
      break;
    }
    state = PQconnectPoll(c);
  }
  if (failure.empty()) failure = trimmed(PQerrorMessage(c));
  PQfinish(c);
  throw base::Unavailable("postgres: cannot connect: " + failure);
}

// What kind of failure a statement's error is, from its SQLSTATE: a database that is going
// away, starting, out of room or out of connections is trouble that passes; a constraint
// violation or a malformed statement is not.
// A statement gave up waiting for a lock (lock_not_available): transient, like Unavailable.
struct LockNotAvailable : base::Unavailable {
  using base::Unavailable::Unavailable;
};

[[noreturn]] void throw_statement_error(const PGresult* r, const std::string& message) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state ? state : "";
  const std::string text = "postgres: " + trimmed(message);
  if (code == "53100") throw base::StorageFull(text);  // disk_full
  // 08: connection exception; 53: insufficient resources; 57014: statement timeout (or
  // cancel); 57P01-57P03: shut down / cannot connect now; 40001/40P01: serialization,
  // deadlock.
  if (code == "55P03") throw LockNotAvailable(text);  // waited lock_timeout (migrations)
  if (code.rfind("08", 0) == 0 || code.rfind("53", 0) == 0 || code == "57014" ||
      code.rfind("57P", 0) == 0 || code == "40001" || code == "40P01")
    throw base::Unavailable(text);
  throw std::runtime_error(text);
}

}  // namespace

// One libpq connection with a deadline on every call. A connection that broke, or whose
// statement outlived its deadline, is dropped and made again by the next call.
class PostgresJobQueue::Connection {
 public:
  Connection(const std::string& url, milliseconds deadline) : url_(url), deadline_(deadline) {
    connect(Steady::now() + deadline_);
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Every statement of one queue call shares the call's deadline, counted from when the call
  // began waiting for this connection (Lease), not from each statement.
  void begin_call(Steady::time_point deadline) { call_deadline_ = deadline; }
  Rows exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    return exec_until(call_deadline(), sql, params);
  }
  // For the few statements that may take longer than one request may wait (migrations).
  Rows exec_until(Steady::time_point deadline, const std::string& sql,
                  const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p.c_str());
    for (int attempt = 0;; ++attempt) {
      if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) connect(deadline);
      if (PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0) == 0) {
        drop();
        if (attempt == 0) continue;  // the server restarted since this connection was made
        throw base::Unavailable("postgres: the connection broke");
      }
      ResultPtr r = wait_for_result(deadline);
      const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(std::move(r));
      if (PQstatus(conn_) != CONNECTION_OK) {
        drop();
        if (attempt == 0 && Steady::now() < deadline) continue;  // server restarted
        throw base::Unavailable("postgres: the connection broke");
      }
      throw_statement_error(r.get(), r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
    }
  }
  // Multi-statement text without parameters (migrations, BEGIN/COMMIT).
  void exec_script(const char* sql, Steady::time_point deadline) {
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) connect(deadline);
    if (PQsendQuery(conn_, sql) == 0) {
      drop();
      throw base::Unavailable("postgres: the connection broke");
    }
    ResultPtr r = wait_for_result(deadline);
    const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      if (PQstatus(conn_) != CONNECTION_OK) {
        drop();
        throw base::Unavailable("postgres: the connection broke");
      }
      throw_statement_error(r.get(), r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_));
    }
  }
  void exec_script(const char* sql) { exec_script(sql, call_deadline()); }

 private:
  void connect(Steady::time_point deadline) {
    drop();
    conn_ = connect_within(url_, deadline);
    // The server ends a statement that runs past the deadline too, so a query we gave up
    // on does not hold locks behind our back.
    const std::string set = "SET statement_timeout = " + std::to_string(deadline_.count());
    ResultPtr r(PQexec(conn_, set.c_str()));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      const std::string msg = trimmed(PQerrorMessage(conn_));
      drop();
      throw base::Unavailable("postgres: cannot set up the connection: " + msg);
    }
  }
  void drop() {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  // The last result of the statement sent, read without waiting past `deadline`. On timeout
  // the connection is dropped (the server's statement_timeout ends the statement there).
  ResultPtr wait_for_result(Steady::time_point deadline) {
    ResultPtr last;
    for (;;) {
      while (PQisBusy(conn_)) {
        if (!wait_socket(PQsocket(conn_), POLLIN, deadline)) {
          drop();
          throw base::Unavailable("postgres: no answer within " +
                                  std::to_string(deadline_.count()) + " ms");
        }
        if (PQconsumeInput(conn_) == 0) return last;  // the connection broke: status says so
      }
      PGresult* next = PQgetResult(conn_);
      if (next == nullptr) return last;
      last.reset(next);
    }
  }

  Steady::time_point call_deadline() const {
    return call_deadline_ ? *call_deadline_ : Steady::now() + deadline_;
  }

  std::string url_;
  milliseconds deadline_;
  std::optional<Steady::time_point> call_deadline_;
  PGconn* conn_ = nullptr;
};

class PostgresJobQueue::Lease {
 public:
  explicit Lease(PostgresJobQueue& q) : q_(q) {
    const auto deadline = Steady::now() + q_.deadline_;
    std::unique_lock lock(q_.mutex_);
    // Every connection busy (each call on one is bounded too): a caller waits no longer than
    // a call may take, so an HTTP thread is never held behind a queue of others.
    if (!q_.available_.wait_until(lock, deadline, [&] { return !q_.idle_.empty(); }))
      throw base::Unavailable("postgres: every connection of the pool stayed busy");
    conn_ = std::move(q_.idle_.back());
    q_.idle_.pop_back();
    conn_->begin_call(deadline);
  }
  ~Lease() {
    {
      std::lock_guard lock(q_.mutex_);
      q_.idle_.push_back(std::move(conn_));
    }
    q_.available_.notify_one();
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Connection* operator->() { return conn_.get(); }

 private:
  PostgresJobQueue& q_;
  std::unique_ptr<Connection> conn_;
};

namespace {
// Advisory locks are per database: the key names the schema too, so deployments (and tests)
// in separate schemas of one database do not take each other's turns. Two-key form: a key
// space apart from the migration lock's.
constexpr const char* kTryTurn =
    "SELECT pg_try_advisory_lock(72361521, hashtext(current_schema() || '/' || $1))";
constexpr const char* kEndTurn =
    "SELECT pg_advisory_unlock(72361521, hashtext(current_schema() || '/' || $1))";

class PostgresTurn final : public ExclusiveTurn {
 public:
  PostgresTurn(std::unique_ptr<PostgresJobQueue::Connection> c, std::string name)
      : c_(std::move(c)), name_(std::move(name)) {}
  ~PostgresTurn() override {
    try {
      c_->exec(kEndTurn, {name_});
    } catch (const std::exception&) {  // closing the connection below ends the turn anyway
    }
  }
  PostgresTurn(const PostgresTurn&) = delete;
  PostgresTurn& operator=(const PostgresTurn&) = delete;

 private:
  std::unique_ptr<PostgresJobQueue::Connection> c_;
  std::string name_;
};
}  // namespace

std::unique_ptr<ExclusiveTurn> PostgresJobQueue::try_exclusive(const std::string& name) {
  auto c = std::make_unique<Connection>(url_, deadline_);
  if (c->exec(kTryTurn, {name}).text(0, 0) != "t") return nullptr;
  return std::make_unique<PostgresTurn>(std::move(c), name);
}

PostgresJobQueue::PostgresJobQueue(std::string url, int connections, milliseconds deadline)
    : url_(std::move(url)), deadline_(deadline) {
  for (int i = 0; i < std::max(1, connections); ++i)
    idle_.push_back(std::make_unique<Connection>(url_, deadline_));
  migrate();
}

PostgresJobQueue::~PostgresJobQueue() = default;

int PostgresJobQueue::latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

int PostgresJobQueue::schema_version() {
  Lease c(*this);
  const auto rows = c->exec("SELECT COALESCE(MAX(version), 0) FROM sy_schema_migrations");
  return static_cast<int>(rows.int64(0, 0));
}

void PostgresJobQueue::migrate() {
  // Another process may be migrating (it holds the lock): a start may wait for it longer
  // than a request would.
  const auto deadline = Steady::now() + std::max(deadline_, milliseconds(60000));
  for (;;) {
    try {
      migrate_once(deadline);
      return;
    } catch (const LockNotAvailable&) {
      // A migration's ALTER queued behind a long transaction would hold every other query
      // on the table behind it; it gives up after kMigrationLockWait, lets them through, and
      // tries again while the start's deadline allows.
      if (Steady::now() + kMigrationRetryPause >= deadline) throw;
      std::this_thread::sleep_for(kMigrationRetryPause);
    }
  }
}

void PostgresJobQueue::migrate_once(Steady::time_point deadline) {
  Lease c(*this);
  c->exec_script("BEGIN", deadline);
  try {
    c->exec_script("SET LOCAL statement_timeout = 0", deadline);
    c->exec_until(deadline, kMigrationLock);
    c->exec_script(kMigrationLockWait, deadline);
    c->exec(
        "CREATE TABLE IF NOT EXISTS sy_schema_migrations (version integer PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    const int version = static_cast<int>(
        c->exec("SELECT COALESCE(MAX(version), 0) FROM sy_schema_migrations").int64(0, 0));
    if (version > latest_schema_version())
      throw std::runtime_error("postgres: the queue schema has version " +
                               std::to_string(version) + ", newer than this binary's " +
                               std::to_string(latest_schema_version()));
    for (int v = version; v < latest_schema_version(); ++v) {
      c->exec_script(kMigrations[v], deadline);
      c->exec_until(deadline, "INSERT INTO sy_schema_migrations (version) VALUES ($1)",
                    {num(static_cast<std::int64_t>(v + 1))});
    }
    c->exec_script("COMMIT", deadline);
  } catch (...) {
    try {
      c->exec_script("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

void PostgresJobQueue::create(const NewJob& job) {
  Lease c(*this);
  c->exec(
      "INSERT INTO sy_jobs (id, token_hash, filename, upload_key, size, settings, status, "
      "max_attempts, stage, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
      "'awaiting_upload', $7, 'awaiting_upload', sy_now_ms(), sy_now_ms())",
      {job.id, job.token_hash, job.filename, job.upload_key, num(job.size), job.settings_json,
       num(static_cast<std::int64_t>(job.max_attempts))});
}

std::optional<Job> PostgresJobQueue::get(const std::string& id) {
  Lease c(*this);
  const auto rows = c->exec(std::string("SELECT ") + kJobColumns + " FROM sy_jobs WHERE id = $1", {id});
  if (rows.size() == 0) return std::nullopt;
  return rows.job(0);
}

bool PostgresJobQueue::enqueue(const std::string& id) {
  Lease c(*this);
  return c->exec(
                "UPDATE sy_jobs SET status = 'queued', stage = 'queued', queued_at = sy_now_ms(), "
                "updated_at = sy_now_ms() WHERE id = $1 AND status = 'awaiting_upload'",
                {id})
             .affected() == 1;
}

std::optional<Job> PostgresJobQueue::claim(const std::string& worker, milliseconds lease) {
  Lease c(*this);
  // Leases that ran out on the last attempt: the dead-letter state, reason kept.
  c->exec(
      "UPDATE sy_jobs SET status = 'failed', stage = 'failed', lease_owner = NULL, "
      "failed_permanently = 0, error = CASE WHEN error = '' THEN 'the worker stopped responding ' || attempts || "
      "' times (lease expired)' ELSE error END, updated_at = sy_now_ms() "
      "WHERE id IN (SELECT id FROM sy_jobs WHERE status = 'processing' AND "
      "lease_expires < sy_now_ms() AND attempts >= max_attempts FOR UPDATE SKIP LOCKED)");
  // SKIP LOCKED: a row another worker is taking right now is passed over, not waited for.
  const auto rows = c->exec(
      std::string("UPDATE sy_jobs SET status = 'processing', stage = 'starting', progress = 0, "
                  "attempts = attempts + 1, lease_owner = $1, lease_expires = sy_now_ms() + $2, "
                  "updated_at = sy_now_ms() WHERE id = (SELECT id FROM sy_jobs WHERE "
                  "status = 'queued' OR (status = 'processing' AND lease_expires < sy_now_ms() "
                  "AND attempts < max_attempts) ORDER BY queued_at, seq LIMIT 1 "
                  "FOR UPDATE SKIP LOCKED) RETURNING ") +
          kJobColumns,
      {worker, num(static_cast<std::int64_t>(lease.count()))});
  if (rows.size() == 0) return std::nullopt;
  return rows.job(0);
}

bool PostgresJobQueue::renew(const std::string& id, const std::string& worker,
                             milliseconds lease) {
  Lease c(*this);
  // A worker whose lease already ran out may have lost the job to another: it must stop.
  return c->exec(
                "UPDATE sy_jobs SET lease_expires = sy_now_ms() + $3 WHERE id = $1 AND "
                "lease_owner = $2 AND status = 'processing' AND lease_expires >= sy_now_ms()",
                {id, worker, num(static_cast<std::int64_t>(lease.count()))})
             .affected() == 1;
}

bool PostgresJobQueue::report_progress(const std::string& id, const std::string& worker,
                                       double fraction, const std::string& stage) {
  Lease c(*this);
  return c->exec(
                "UPDATE sy_jobs SET progress = $3, stage = $4, updated_at = sy_now_ms() "
                "WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
                {id, worker, num(fraction), stage})
             .affected() == 1;
}

bool PostgresJobQueue::complete(const std::string& id, const std::string& worker,
                                const JobResult& result) {
  Lease c(*this);
  return c->exec(
                "UPDATE sy_jobs SET status = 'done', stage = 'done', progress = 1, error = '', "
                "lease_owner = NULL, result_key = $3, result_bytes = $4, result_duration = $5, "
                "result_format = $6, result_wall = $7, result_report = $8, updated_at = sy_now_ms() "
                "WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
                {id, worker, result.key, num(result.bytes), num(result.duration_seconds),
                 result.format, num(result.wall_seconds), result.report_json})
             .affected() == 1;
}

std::optional<JobStatus> PostgresJobQueue::fail(const std::string& id, const std::string& worker,
                                                const std::string& reason, bool permanent) {
  Lease c(*this);
  const auto rows = c->exec(
      "UPDATE sy_jobs SET status = CASE WHEN $4::boolean OR attempts >= max_attempts "
      "THEN 'failed' ELSE 'queued' END, stage = CASE WHEN $4::boolean OR "
      "attempts >= max_attempts THEN 'failed' ELSE 'queued' END, "
      "failed_permanently = CASE WHEN $4::boolean THEN 1 ELSE 0 END, error = $3, "
      "lease_owner = NULL, progress = 0, queued_at = sy_now_ms(), updated_at = sy_now_ms() "
      "WHERE id = $1 AND lease_owner = $2 AND status = 'processing' RETURNING status",
      {id, worker, reason, permanent ? "true" : "false"});
  if (rows.size() == 0) return std::nullopt;
  return parse_status(rows.text(0, 0));
}

bool PostgresJobQueue::release(const std::string& id, const std::string& worker) {
  Lease c(*this);
  return c->exec(
                "UPDATE sy_jobs SET status = 'queued', stage = 'queued', progress = 0, "
                "attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, "
                "updated_at = sy_now_ms() "
                "WHERE id = $1 AND lease_owner = $2 AND status = 'processing'",
                {id, worker})
             .affected() == 1;
}

bool PostgresJobQueue::remove(const std::string& id) {
  Lease c(*this);
  return c->exec("DELETE FROM sy_jobs WHERE id = $1", {id}).affected() == 1;
}

std::map<JobStatus, std::int64_t> PostgresJobQueue::count_by_status() {
  std::map<JobStatus, std::int64_t> out;
  for (auto s : {JobStatus::kAwaitingUpload, JobStatus::kQueued, JobStatus::kProcessing,
                 JobStatus::kDone, JobStatus::kFailed, JobStatus::kExpired})
    out[s] = 0;
  Lease c(*this);
  const auto rows = c->exec("SELECT status, COUNT(*) FROM sy_jobs GROUP BY status");
  for (int i = 0; i < rows.size(); ++i)
    if (auto s = parse_status(rows.text(i, 0))) out[*s] = rows.int64(i, 1);
  return out;
}

std::vector<std::string> PostgresJobQueue::expire_uploads(Clock::time_point cutoff) {
  Lease c(*this);
  const auto rows = c->exec(
      "UPDATE sy_jobs SET status = 'expired', stage = 'expired', "
      "error = 'the upload was never completed', updated_at = sy_now_ms() "
      "WHERE status = 'awaiting_upload' AND created_at < $1 RETURNING id",
      {num(to_ms(cutoff))});
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.text(i, 0));
  return ids;
}

std::vector<std::string> PostgresJobQueue::finished_before(Clock::time_point cutoff) {
  Lease c(*this);
  const auto rows = c->exec(
      "SELECT id FROM sy_jobs WHERE status IN ('done', 'failed', 'expired') AND updated_at < $1",
      {num(to_ms(cutoff))});
  std::vector<std::string> ids;
  for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.text(i, 0));
  return ids;
}

bool PostgresJobQueue::upload_in_use(const std::string& upload_key) {
  Lease c(*this);
  const auto rows = c->exec(
      "SELECT 1 FROM sy_jobs WHERE upload_key = $1 "
      "AND status IN ('awaiting_upload', 'queued', 'processing') LIMIT 1",
      {upload_key});
  return rows.size() > 0;
}

// ---------------------------------------------------------------------------------------------

PostgresWorkWatcher::PostgresWorkWatcher(std::string url, std::function<void()> on_work,
                                         std::chrono::milliseconds fallback)
    : url_(std::move(url)), on_work_(std::move(on_work)), fallback_(fallback) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error("postgres: cannot create a pipe");
  thread_ = std::thread([this] { run(); });
}

PostgresWorkWatcher::~PostgresWorkWatcher() {
  stopping_ = true;
  const char byte = 1;
  [[maybe_unused]] auto n = ::write(wake_pipe_[1], &byte, 1);
  if (thread_.joinable()) thread_.join();
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void PostgresWorkWatcher::run() {
  PGconn* conn = nullptr;
  while (!stopping_) {
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
      PQfinish(conn);
      conn = nullptr;
      try {
        conn = connect_within(url_, Steady::now() + std::chrono::seconds(5));
      } catch (const std::exception&) {  // away: tried again below
      }
      bool ok = conn != nullptr && PQstatus(conn) == CONNECTION_OK;
      if (ok) {
        ResultPtr r(PQexec(conn, (std::string("LISTEN ") + kNotifyChannel).c_str()));
        ok = r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
      }
      // Whatever was queued while we were away is found by the workers' next claim.
      if (on_work_) on_work_();
      if (!ok) {
        PQfinish(conn);
        conn = nullptr;
        pollfd p{wake_pipe_[0], POLLIN, 0};
        ::poll(&p, 1, 1000);  // the database is away: try again in a second
        continue;
      }
    }
    std::array<pollfd, 2> fds{{{PQsocket(conn), POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}}};
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(fallback_.count()));
    if (stopping_) break;
    bool work = n == 0;  // the fallback tick: leases may have expired
    if (n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) {
      if (PQconsumeInput(conn) == 0) {
        PQfinish(conn);
        conn = nullptr;
        continue;
      }
      while (PGnotify* note = PQnotifies(conn)) {
        ++notifications_;
        work = true;
        PQfreemem(note);
      }
    }
    if (work && on_work_) on_work_();
  }
  PQfinish(conn);
}

}  // namespace sy::queue
