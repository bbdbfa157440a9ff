#pragma once
// Picks the queue backend from configuration: the embedded SQLite file (single node) or
// PostgreSQL (scaled out). Callers see only JobQueue.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "queue/job_queue.h"

namespace sy::queue {

struct QueueSettings {
  std::string backend = "sqlite";      // "sqlite" or "postgres"
  std::string url;                     // postgres: libpq URI / connection string
  std::filesystem::path sqlite_file;   // sqlite: the database file
  int connections = 4;                 // postgres: connections per process
  // postgres: the most one call may take (pool wait + connect + statement); past it the
  // call throws base::Unavailable (503 to a client). SQLite waits at most 2 s for a lock.
  std::chrono::milliseconds deadline{2000};
};

// Throws std::invalid_argument for an unknown backend or a missing URL, std::runtime_error
// when the database cannot be opened.
std::unique_ptr<JobQueue> open_queue(const QueueSettings& settings);

// Something that calls `on_work` when jobs are queued by any process, until destroyed:
// PostgreSQL's LISTEN/NOTIFY, or for SQLite a futex on the file every process on the same
// database maps. Null when there is nothing to watch (SQLite without a file).
class WorkWatch {
 public:
  virtual ~WorkWatch() = default;
};
std::unique_ptr<WorkWatch> watch_for_work(const QueueSettings& settings,
                                          std::function<void()> on_work,
                                          std::chrono::milliseconds fallback);

}  // namespace sy::queue
