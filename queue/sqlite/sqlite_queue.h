#pragma once
// The embedded queue: one SQLite file in WAL mode under the data directory.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/bounded_cache.h"
#include "queue/job_queue.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sy::queue {

class SqliteJobQueue final : public JobQueue {
 public:
  // Opens (creating if needed) and migrates the database. Throws std::runtime_error,
  // also when the file was written by a newer schema than this binary knows.
  explicit SqliteJobQueue(const std::filesystem::path& file);
  ~SqliteJobQueue() override;
  SqliteJobQueue(const SqliteJobQueue&) = delete;
  SqliteJobQueue& operator=(const SqliteJobQueue&) = delete;

  // How long a cached row may be served without a change signal: the bound on staleness for
  // writers that do not signal (another program editing the file, an older binary).
  static constexpr std::chrono::milliseconds kRowCacheMaxAge{100};

  static int latest_schema_version();
  int schema_version();

  void create(const NewJob& job) override;
  std::optional<Job> get(const std::string& id) override;
  bool enqueue(const std::string& id) override;
  std::optional<Job> claim(const std::string& worker, std::chrono::milliseconds lease) override;
  bool renew(const std::string& id, const std::string& worker,
             std::chrono::milliseconds lease) override;
  bool report_progress(const std::string& id, const std::string& worker, double fraction,
                       const std::string& stage) override;
  bool complete(const std::string& id, const std::string& worker,
                const JobResult& result) override;
  std::optional<JobStatus> fail(const std::string& id, const std::string& worker,
                                const std::string& reason, bool permanent) override;
  bool release(const std::string& id, const std::string& worker) override;
  bool remove(const std::string& id) override;
  std::map<JobStatus, std::int64_t> count_by_status() override;
  std::vector<std::string> expire_uploads(Clock::time_point cutoff) override;
  std::vector<std::string> finished_before(Clock::time_point cutoff) override;
  bool upload_in_use(const std::string& upload_key) override;
  // An flock on <file>-<name>.lock: processes sharing the file (two `serve`s on one data
  // directory) take turns; the kernel ends a turn whose process died.
  std::unique_ptr<ExclusiveTurn> try_exclusive(const std::string& name) override;

 private:
  class Statement;
  void exec(const char* sql);
  void migrate();

  std::filesystem::path file_;
  std::mutex mutex_;  // one connection, used by one thread at a time
  sqlite3* db_ = nullptr;
  // Status reads go through their own connections: in WAL mode they never wait for a writer
  // that is fsyncing, and two let two HTTP threads read at once instead of queueing on one
  // mutex.
  struct Reader {
    std::mutex mutex;
    sqlite3* db = nullptr;
    sqlite3_stmt* get_stmt = nullptr;
  };
  std::array<Reader, 2> readers_;
  // A free reader, locked (waits for one when both are busy).
  std::unique_lock<std::mutex> lock_reader(Reader** reader);

  // Rows read by get() are kept and served again while no write went through any
  // SqliteJobQueue on this file (a status poll then costs no SQLite read transaction, which
  // was ~30 % of it). Every write method bumps a counter that lives in a small shared memory
  // file beside the database (<file>-changes, mapped by every process that opens it, as
  // SQLite's own -shm is), after its commit; a cached row is used only while the counter
  // still has the value read before the row was, and for at most kRowCacheMaxAge.
  class ChangeCounter;
  friend class SqliteWorkWatcher;
  class WriteLock;  // mutex_ held; the counter bumped when it ends
  struct CachedRow {
    Job job;
    std::uint64_t changes = 0;  // the counter before the row was read
    std::chrono::steady_clock::time_point read_at;
  };
  std::uint64_t changes() const;
  void changed();  // after a write committed (or failed)
  std::unique_ptr<ChangeCounter> counter_;  // null: no cache (the file could not be mapped)
  base::BoundedCache<std::string, std::shared_ptr<const CachedRow>> row_cache_{10000};
};

// Calls `on_work` once at construction, then when any process on the same database file
// queues a job or hands one back (a futex on the shared change file: no polling), and every
// `fallback` in case a lease ran out (or a process of an older binary, which does not wake
// anyone, queued a job). The embedded queue's counterpart of PostgresWorkWatcher, for a
// `surroundyou worker` run beside `serve --workers 0` on one data directory.
class SqliteWorkWatcher {
 public:
  SqliteWorkWatcher(const std::filesystem::path& file, std::function<void()> on_work,
                    std::chrono::milliseconds fallback = std::chrono::seconds(5));
  ~SqliteWorkWatcher();
  SqliteWorkWatcher(const SqliteWorkWatcher&) = delete;
  SqliteWorkWatcher& operator=(const SqliteWorkWatcher&) = delete;
  std::uint64_t wake_ups() const { return wake_ups_.load(); }

 private:
  void run();
  std::unique_ptr<SqliteJobQueue::ChangeCounter> counter_;  // null: the fallback tick only
  std::function<void()> on_work_;
  std::chrono::milliseconds fallback_;
  std::uint32_t seen_;  // the queued count when constructed
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> wake_ups_{0};
  std::thread thread_;
};

}  // namespace sy::queue
