#include "queue/sqlite/sqlite_queue.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <utility>

#include "base/errors.h"
#include "base/log.h"
#include "queue/job_columns.h"

namespace sy::queue {
namespace {

using std::chrono::milliseconds;

std::int64_t now_ms() { return to_ms(Clock::now()); }

// How long a call waits for another process's write lock: a call made for an HTTP request
// holds its thread no longer than this, then reports base::Unavailable.
constexpr int kBusyTimeoutMs = 2000;

// Each entry moves the schema one version up; never edit an entry once released.
constexpr const char* kMigrations[] = {
    // 1: the jobs table.
    R"sql(
    CREATE TABLE jobs (
      id TEXT PRIMARY KEY,
      token_hash TEXT NOT NULL,
      filename TEXT NOT NULL,
      upload_key TEXT NOT NULL,
      size INTEGER NOT NULL,
      settings TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL DEFAULT 3,
      lease_owner TEXT,
      lease_expires INTEGER,
      progress REAL NOT NULL DEFAULT 0,
      stage TEXT NOT NULL DEFAULT '',
      error TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      queued_at INTEGER
    );
    )sql",
    // 2: results and the indexes the worker and janitor queries use.
    R"sql(
    ALTER TABLE jobs ADD COLUMN result_key TEXT;
    ALTER TABLE jobs ADD COLUMN result_bytes INTEGER;
    ALTER TABLE jobs ADD COLUMN result_duration REAL;
    ALTER TABLE jobs ADD COLUMN result_format TEXT;
    ALTER TABLE jobs ADD COLUMN result_wall REAL;
    CREATE INDEX jobs_claim ON jobs(status, queued_at);
    CREATE INDEX jobs_updated ON jobs(status, updated_at);
    )sql",
    // 3: the report measured on the delivered file; live jobs by upload (a rerender reads its
    // source's upload, and deleting a job asks whether one still does).
    R"sql(
    ALTER TABLE jobs ADD COLUMN result_report TEXT;
    CREATE INDEX jobs_upload ON jobs(upload_key)
      WHERE status IN ('awaiting_upload', 'queued', 'processing');
    )sql",
    // 4: whether a failed job was refused (the same upload fails the same way) or ran out of
    // attempts. Jobs that failed before this knew it only by their count: one failed before
    // its last attempt can only have been refused.
    R"sql(
    ALTER TABLE jobs ADD COLUMN failed_permanently INTEGER NOT NULL DEFAULT 0;
    UPDATE jobs SET failed_permanently = 1 WHERE status = 'failed' AND attempts < max_attempts;
    )sql",
};

// A full disk, a lock another process held past the busy timeout and I/O errors pass; a
// constraint or a malformed statement does not.
[[noreturn]] void fail_sqlite(sqlite3* db, const std::string& what) {
  const std::string text = "sqlite: " + what + ": " + sqlite3_errmsg(db);
  switch (sqlite3_errcode(db)) {
    case SQLITE_FULL:
      throw base::StorageFull(text);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw base::Unavailable(text);
    case SQLITE_IOERR:
    case SQLITE_NOMEM:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      throw base::TransientError(text);
    default:
      throw std::runtime_error(text);
  }
}

}  // namespace

// A prepared statement with RAII finalize and typed binding.
class SqliteJobQueue::Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail_sqlite(db, sql);
  }
  // Uses a statement prepared once (hot paths); it is reset, not finalized, afterwards.
  Statement(sqlite3* db, sqlite3_stmt* cached) : db_(db), stmt_(cached), owned_(false) {}
  ~Statement() {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Statement& bind(int i, double v) {
    check(sqlite3_bind_double(stmt_, i, v));
    return *this;
  }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail_sqlite(db_, "step");
  }
  void run() {
    while (step()) {
    }
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

  Job job() const { return job_from_row(*this); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail_sqlite(db_, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool owned_ = true;
};

namespace {
// BEGIN IMMEDIATE takes the write lock up front, so two processes sharing the file cannot
// both read the same queued job before either updates it.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      fail_sqlite(db_, "begin");
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      fail_sqlite(db_, "commit");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};
}  // namespace

// The change counter every process that opens the database shares: one 64-bit word in a
// mapped file, changed with atomic instructions. Hand-written because SQLite's own change
// signal (the WAL index header) is read only inside a read transaction, the cost this avoids.
class SqliteJobQueue::ChangeCounter {
 public:
  static std::unique_ptr<ChangeCounter> open(const std::filesystem::path& path) {
    static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return nullptr;
    struct stat st {};
    // Growing a file of another process is harmless: both only ever extend it with zeros.
    const bool sized = ::fstat(fd, &st) == 0 &&
                       (st.st_size >= kBytes || ::ftruncate(fd, kBytes) == 0);
    void* map = sized ? ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
                      : MAP_FAILED;
    ::close(fd);
    if (map == MAP_FAILED) return nullptr;
    return std::unique_ptr<ChangeCounter>(new ChangeCounter(map));
  }
  ~ChangeCounter() { ::munmap(map_, kBytes); }
  ChangeCounter(const ChangeCounter&) = delete;
  ChangeCounter& operator=(const ChangeCounter&) = delete;

  std::uint64_t load() const { return word().load(); }
  void bump() { word().fetch_add(1); }

  // A second word counts the times a job became claimable (queued, or handed back), and
  // wakes whoever waits on it in any process: a futex on the shared mapping, so a worker
  // beside `serve --workers 0` starts a job as soon as it is uploaded, without polling.
  std::uint32_t queued() const { return queued_word().load(); }
  void bump_queued() {
    queued_word().fetch_add(1);
    ::syscall(SYS_futex, queued_address(), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }
  // Returns when the word is no longer `seen`, or after `timeout` (or a spurious wake-up).
  void wait_queued(std::uint32_t seen, std::chrono::milliseconds timeout) const {
    const timespec ts{static_cast<time_t>(timeout.count() / 1000),
                      static_cast<long>(timeout.count() % 1000) * 1000000L};
    ::syscall(SYS_futex, queued_address(), FUTEX_WAIT, seen, &ts, nullptr, 0);
  }

 private:
  static constexpr off_t kBytes = 4096;
  explicit ChangeCounter(void* map) : map_(map) {}
  std::atomic_ref<std::uint64_t> word() const {
    return std::atomic_ref<std::uint64_t>(*static_cast<std::uint64_t*>(map_));
  }
  std::uint32_t* queued_address() const { return static_cast<std::uint32_t*>(map_) + 2; }
  std::atomic_ref<std::uint32_t> queued_word() const {
    return std::atomic_ref<std::uint32_t>(*queued_address());
  }
  void* map_;
};

class SqliteJobQueue::WriteLock {
 public:
  explicit WriteLock(SqliteJobQueue& q) : q_(q), lock_(q.mutex_) {}
  // Runs after the method's statements and transaction ended (they are declared later, so
  // destroyed first): readers that saw the old counter re-read the committed row, and a
  // worker woken for a queued job finds it committed.
  ~WriteLock() {
    q_.changed();
    if (queued_ && q_.counter_) q_.counter_->bump_queued();
  }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;
  // The write made a job claimable: wake the workers waiting in any process.
  void queued(bool yes = true) { queued_ = yes; }

 private:
  SqliteJobQueue& q_;
  std::lock_guard<std::mutex> lock_;
  bool queued_ = false;
};

std::uint64_t SqliteJobQueue::changes() const { return counter_ ? counter_->load() : 0; }

void SqliteJobQueue::changed() {
  if (counter_) counter_->bump();
}

SqliteJobQueue::SqliteJobQueue(const std::filesystem::path& file) : file_(file) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  // Made 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database's mode,
  // and job rows hold file names and token hashes no other user should read.
  if (const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  if (sqlite3_open_v2(file.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("sqlite: cannot open " + file.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
    migrate();
    counter_ = ChangeCounter::open(file.string() + "-changes");
    const std::string get_sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1";
    for (auto& r : readers_) {
      if (sqlite3_open_v2(file.c_str(), &r.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                          nullptr) != SQLITE_OK)
        fail_sqlite(r.db, "open for reading");
      sqlite3_busy_timeout(r.db, kBusyTimeoutMs);
      if (sqlite3_prepare_v3(r.db, get_sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &r.get_stmt,
                             nullptr) != SQLITE_OK)
        fail_sqlite(r.db, "prepare");
    }
  } catch (...) {
    for (auto& r : readers_) {
      sqlite3_finalize(r.get_stmt);
      sqlite3_close(r.db);
    }
    sqlite3_close(db_);
    throw;
  }
}

SqliteJobQueue::~SqliteJobQueue() {
  for (auto& r : readers_) {
    sqlite3_finalize(r.get_stmt);
    sqlite3_close(r.db);
  }
  sqlite3_close(db_);
}

std::unique_lock<std::mutex> SqliteJobQueue::lock_reader(Reader** reader) {
  for (auto& r : readers_) {
    std::unique_lock lock(r.mutex, std::try_to_lock);
    if (lock) {
      *reader = &r;
      return lock;
    }
  }
  *reader = &readers_[0];
  return std::unique_lock(readers_[0].mutex);
}

void SqliteJobQueue::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw std::runtime_error(std::string("sqlite: ") + msg);
  }
}

int SqliteJobQueue::latest_schema_version() {
  return static_cast<int>(std::size(kMigrations));
}

int SqliteJobQueue::schema_version() {
  std::lock_guard lock(mutex_);
  Statement st(db_, "PRAGMA user_version");
  st.step();
  return static_cast<int>(st.int64(0));
}

void SqliteJobQueue::migrate() {
  Transaction tx(db_);
  int version = 0;
  {
    Statement st(db_, "PRAGMA user_version");
    st.step();
    version = static_cast<int>(st.int64(0));
  }
  if (version > latest_schema_version())
    throw std::runtime_error("sqlite: the queue database has schema version " +
                             std::to_string(version) + ", newer than this binary's " +
                             std::to_string(latest_schema_version()));
  for (int v = version; v < latest_schema_version(); ++v) {
    exec(kMigrations[v]);
    exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
  }
  tx.commit();
}

void SqliteJobQueue::create(const NewJob& job) {
  const WriteLock lock(*this);
  const auto now = now_ms();
  Statement st(db_,
               "INSERT INTO jobs (id, token_hash, filename, upload_key, size, settings, status, "
               "max_attempts, stage, created_at, updated_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'awaiting_upload', ?7, 'awaiting_upload', ?8, ?8)");
  st.bind(1, job.id).bind(2, job.token_hash).bind(3, job.filename).bind(4, job.upload_key);
  st.bind(5, job.size).bind(6, job.settings_json).bind(7, job.max_attempts).bind(8, now);
  st.run();
}

std::optional<Job> SqliteJobQueue::get(const std::string& id) {
  const auto now = std::chrono::steady_clock::now();
  const std::uint64_t before = changes();
  if (counter_) {
    const std::shared_ptr<const CachedRow> row = row_cache_.find(id).value_or(nullptr);
    if (row && row->changes == before && now - row->read_at < kRowCacheMaxAge) return row->job;
  }
  std::optional<Job> job;
  {
    Reader* r = nullptr;
    const auto lock = lock_reader(&r);
    Statement st(r->db, r->get_stmt);
    st.bind(1, id);
    if (st.step()) job = st.job();
  }
  if (counter_) {
    auto row = job ? std::make_shared<const CachedRow>(CachedRow{*job, before, now}) : nullptr;
    if (!row) {
      row_cache_.erase(id);
    } else {
      row_cache_.put(id, std::move(row));
    }
  }
  return job;
}

namespace {
class FileTurn final : public ExclusiveTurn {
 public:
  explicit FileTurn(int fd) : fd_(fd) {}
  ~FileTurn() override { ::close(fd_); }  // closing the only descriptor drops the lock
  FileTurn(const FileTurn&) = delete;
  FileTurn& operator=(const FileTurn&) = delete;

 private:
  int fd_;
};
}  // namespace

std::unique_ptr<ExclusiveTurn> SqliteJobQueue::try_exclusive(const std::string& name) {
  const std::string path = file_.string() + "-" + name + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) base::throw_errno(errno, "open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<FileTurn>(fd);
}

bool SqliteJobQueue::enqueue(const std::string& id) {
  WriteLock lock(*this);
  Statement st(db_,
               "UPDATE jobs SET status = 'queued', stage = 'queued', queued_at = ?2, "
               "updated_at = ?2 WHERE id = ?1 AND status = 'awaiting_upload'");
  st.bind(1, id).bind(2, now_ms()).run();
  const bool queued = sqlite3_changes(db_) == 1;
  lock.queued(queued);
  return queued;
}

std::optional<Job> SqliteJobQueue::claim(const std::string& worker, std::chrono::milliseconds lease) {
  const WriteLock lock(*this);
  const auto now = now_ms();
  Transaction tx(db_);
  // Leases that ran out on the last attempt: the dead-letter state, reason kept.
  Statement dead(db_,
                 "UPDATE jobs SET status = 'failed', stage = 'failed', lease_owner = NULL, "
                 "failed_permanently = 0, "
                 "error = CASE WHEN error = '' THEN 'the worker stopped responding ' || attempts "
                 "|| ' times (lease expired)' ELSE error END, updated_at = ?1 "
                 "WHERE status = 'processing' AND lease_expires < ?1 AND attempts >= max_attempts");
  dead.bind(1, now).run();
  std::string id;
  {
    Statement pick(db_,
                   "SELECT id FROM jobs WHERE status = 'queued' OR "
                   "(status = 'processing' AND lease_expires < ?1) "
                   "ORDER BY queued_at, rowid LIMIT 1");  // rowid: creation order breaks ties
    pick.bind(1, now);
    if (!pick.step()) {
      tx.commit();
      return std::nullopt;
    }
    id = pick.text(0);
  }
  Statement take(db_,
                 "UPDATE jobs SET status = 'processing', stage = 'starting', progress = 0, "
                 "attempts = attempts + 1, lease_owner = ?2, lease_expires = ?3, updated_at = ?4 "
                 "WHERE id = ?1");
  take.bind(1, id).bind(2, worker).bind(3, now + lease.count()).bind(4, now).run();
  Statement read(db_, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?1").c_str());
  read.bind(1, id);
  read.step();
  Job job = read.job();
  tx.commit();
  return job;
}

bool SqliteJobQueue::renew(const std::string& id, const std::string& worker,
                           std::chrono::milliseconds lease) {
  const WriteLock lock(*this);
  const auto now = now_ms();
  // A worker whose lease already ran out may have lost the job to another: it must stop.
  Statement st(db_,
               "UPDATE jobs SET lease_expires = ?3 WHERE id = ?1 AND lease_owner = ?2 "
               "AND status = 'processing' AND lease_expires >= ?4");
  st.bind(1, id).bind(2, worker).bind(3, now + lease.count()).bind(4, now).run();
  return sqlite3_changes(db_) == 1;
}

bool SqliteJobQueue::report_progress(const std::string& id, const std::string& worker,
                                     double fraction, const std::string& stage) {
  const WriteLock lock(*this);
  Statement st(db_,
               "UPDATE jobs SET progress = ?3, stage = ?4, updated_at = ?5 "
               "WHERE id = ?1 AND lease_owner = ?2 AND status = 'processing'");
  st.bind(1, id).bind(2, worker).bind(3, fraction).bind(4, stage).bind(5, now_ms()).run();
  return sqlite3_changes(db_) == 1;
}

bool SqliteJobQueue::complete(const std::string& id, const std::string& worker,
                              const JobResult& result) {
  const WriteLock lock(*this);
  Statement st(db_,
               "UPDATE jobs SET status = 'done', stage = 'done', progress = 1, error = '', "
               "lease_owner = NULL, result_key = ?3, result_bytes = ?4, result_duration = ?5, "
               "result_format = ?6, result_wall = ?7, updated_at = ?8, result_report = ?9 "
               "WHERE id = ?1 AND lease_owner = ?2 AND status = 'processing'");
  st.bind(1, id).bind(2, worker).bind(3, result.key).bind(4, result.bytes);
  st.bind(5, result.duration_seconds).bind(6, result.format).bind(7, result.wall_seconds);
  st.bind(8, now_ms()).bind(9, result.report_json).run();
  return sqlite3_changes(db_) == 1;
}

std::optional<JobStatus> SqliteJobQueue::fail(const std::string& id, const std::string& worker,
                                              const std::string& reason, bool permanent) {
  WriteLock lock(*this);
  Statement st(db_,
               "UPDATE jobs SET status = CASE WHEN ?4 OR attempts >= max_attempts THEN 'failed' "
               "ELSE 'queued' END, stage = CASE WHEN ?4 OR attempts >= max_attempts "
               "THEN 'failed' ELSE 'queued' END, failed_permanently = ?4, error = ?3, "
               "lease_owner = NULL, progress = 0, "
               "queued_at = ?5, updated_at = ?5 "
               "WHERE id = ?1 AND lease_owner = ?2 AND status = 'processing' RETURNING status");
  st.bind(1, id).bind(2, worker).bind(3, reason).bind(4, permanent ? 1 : 0).bind(5, now_ms());
  if (!st.step()) return std::nullopt;
  auto status = parse_status(st.text(0));
  st.run();
  lock.queued(status == JobStatus::kQueued);
  return status;
}

bool SqliteJobQueue::release(const std::string& id, const std::string& worker) {
  WriteLock lock(*this);
  Statement st(db_,
               "UPDATE jobs SET status = 'queued', stage = 'queued', progress = 0, "
               "attempts = MAX(attempts - 1, 0), lease_owner = NULL, updated_at = ?3 "
               "WHERE id = ?1 AND lease_owner = ?2 AND status = 'processing'");
  st.bind(1, id).bind(2, worker).bind(3, now_ms()).run();
  const bool released = sqlite3_changes(db_) == 1;
  lock.queued(released);
  return released;
}

bool SqliteJobQueue::remove(const std::string& id) {
  const WriteLock lock(*this);
  Statement st(db_, "DELETE FROM jobs WHERE id = ?1");
  st.bind(1, id).run();
  return sqlite3_changes(db_) == 1;
}

std::map<JobStatus, std::int64_t> SqliteJobQueue::count_by_status() {
  Reader* r = nullptr;
  const auto lock = lock_reader(&r);
  std::map<JobStatus, std::int64_t> out;
  for (auto s : {JobStatus::kAwaitingUpload, JobStatus::kQueued, JobStatus::kProcessing,
                 JobStatus::kDone, JobStatus::kFailed, JobStatus::kExpired})
    out[s] = 0;
  Statement st(r->db, "SELECT status, COUNT(*) FROM jobs GROUP BY status");
  while (st.step())
    if (auto s = parse_status(st.text(0))) out[*s] = st.int64(1);
  return out;
}

std::vector<std::string> SqliteJobQueue::expire_uploads(Clock::time_point cutoff) {
  const WriteLock lock(*this);
  std::vector<std::string> ids;
  Statement st(db_,
               "UPDATE jobs SET status = 'expired', stage = 'expired', "
               "error = 'the upload was never completed', updated_at = ?2 "
               "WHERE status = 'awaiting_upload' AND created_at < ?1 RETURNING id");
  st.bind(1, to_ms(cutoff)).bind(2, now_ms());
  while (st.step()) ids.push_back(st.text(0));
  return ids;
}

std::vector<std::string> SqliteJobQueue::finished_before(Clock::time_point cutoff) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  Statement st(db_,
               "SELECT id FROM jobs WHERE status IN ('done', 'failed', 'expired') "
               "AND updated_at < ?1");
  st.bind(1, to_ms(cutoff));
  while (st.step()) ids.push_back(st.text(0));
  return ids;
}

bool SqliteJobQueue::upload_in_use(const std::string& upload_key) {
  std::lock_guard lock(mutex_);
  Statement st(db_,
               "SELECT 1 FROM jobs WHERE upload_key = ?1 "
               "AND status IN ('awaiting_upload', 'queued', 'processing') LIMIT 1");
  st.bind(1, upload_key);
  return st.step();
}

SqliteWorkWatcher::SqliteWorkWatcher(const std::filesystem::path& file, std::function<void()> on_work,
                                     std::chrono::milliseconds fallback)
    : counter_(SqliteJobQueue::ChangeCounter::open(file.string() + "-changes")),
      on_work_(std::move(on_work)),
      fallback_(fallback),
      seen_(counter_ ? counter_->queued() : 0) {
  if (!counter_)
    base::log::warn("cannot map the queue's change file: idle workers look for jobs only every few seconds",
                    {{"file", file.string() + "-changes"}});
  // A job queued before `seen_` was read (say, after a worker pool's first claim found
  // nothing and before this watch began) would otherwise wait for the fallback tick.
  if (on_work_) on_work_();
  thread_ = std::thread([this] { run(); });
}

SqliteWorkWatcher::~SqliteWorkWatcher() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void SqliteWorkWatcher::run() {
  // Waits in short slices so that stopping never waits for a wake-up (a futex cannot also
  // wait for this object's own flag).
  constexpr std::chrono::milliseconds kSlice{200};
  auto tick = std::chrono::steady_clock::now() + fallback_;
  std::uint32_t seen = seen_;
  while (!stopping_) {
    if (counter_) counter_->wait_queued(seen, kSlice);
    else std::this_thread::sleep_for(kSlice);  // no shared word: the fallback tick alone
    if (stopping_) break;
    const std::uint32_t now_seen = counter_ ? counter_->queued() : seen;
    const bool due = std::chrono::steady_clock::now() >= tick;
    if (now_seen == seen && !due) continue;
    seen = now_seen;
    // The fallback tick: leases may have run out without anyone handing the job back.
    tick = std::chrono::steady_clock::now() + fallback_;
    ++wake_ups_;
    if (on_work_) on_work_();
  }
}

}  // namespace sy::queue
