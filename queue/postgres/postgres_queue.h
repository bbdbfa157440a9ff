#pragma once
// The scaled-out queue on PostgreSQL (libpq): any number of API servers and workers on any
// number of machines share one jobs table. Claims use SELECT … FOR UPDATE SKIP LOCKED, so
// workers never wait on each other's rows; a trigger NOTIFYs `sy_jobs` whenever a job becomes
// queued, so idle workers sleep on LISTEN instead of polling. Times come from the database's
// clock, so leases mean the same on every machine whatever their clocks say.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "queue/job_queue.h"

struct pg_conn;

namespace sy::queue {

class PostgresJobQueue final : public JobQueue {
 public:
  // `url`: a libpq connection string or URI (postgresql://user:pass@host:port/db?...).
  // Connects and migrates the schema (under an advisory lock, so many processes may start at
  // once). Throws std::runtime_error, also when the schema is newer than this binary knows.
  // `deadline` bounds every call: waiting for a free connection, connecting, and the
  // statement (also on the server, as statement_timeout). Past it, or when the database
  // refuses the connection, a call throws base::Unavailable; the next call connects again.
  explicit PostgresJobQueue(std::string url, int connections = 4,
                            std::chrono::milliseconds deadline = std::chrono::seconds(2));
  ~PostgresJobQueue() override;
  PostgresJobQueue(const PostgresJobQueue&) = delete;
  PostgresJobQueue& operator=(const PostgresJobQueue&) = delete;

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
  // A session advisory lock on a connection of its own (not the pool's: the task itself
  // borrows pool connections). A process that dies drops its connection and so its turn.
  std::unique_ptr<ExclusiveTurn> try_exclusive(const std::string& name) override;

  class Connection;

 private:
  // Borrows a connection from the pool for one call.
  class Lease;
  void migrate();
  void migrate_once(std::chrono::steady_clock::time_point deadline);

  std::string url_;
  std::chrono::milliseconds deadline_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// Calls `on_work` whenever a job becomes queued anywhere (LISTEN sy_jobs on its own
// connection and thread), and at least every `fallback` — a lease that expires raises no
// notification. Reconnects by itself when the database goes away.
class PostgresWorkWatcher {
 public:
  PostgresWorkWatcher(std::string url, std::function<void()> on_work,
                      std::chrono::milliseconds fallback = std::chrono::seconds(5));
  ~PostgresWorkWatcher();
  PostgresWorkWatcher(const PostgresWorkWatcher&) = delete;
  PostgresWorkWatcher& operator=(const PostgresWorkWatcher&) = delete;
  std::uint64_t notifications() const { return notifications_.load(); }

 private:
  void run();
  std::string url_;
  std::function<void()> on_work_;
  std::chrono::milliseconds fallback_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> notifications_{0};
  int wake_pipe_[2] = {-1, -1};
  std::thread thread_;
};

}  // namespace sy::queue
