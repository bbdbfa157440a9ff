#include "queue/queue_factory.h"

#include <stdexcept>

#include "queue/postgres/postgres_queue.h"
#include "queue/sqlite/sqlite_queue.h"

namespace sy::queue {
namespace {
class PostgresWatch final : public WorkWatch {
 public:
  PostgresWatch(const std::string& url, std::function<void()> on_work,
                std::chrono::milliseconds fallback)
      : watcher_(url, std::move(on_work), fallback) {}

 private:
  PostgresWorkWatcher watcher_;
};

class SqliteWatch final : public WorkWatch {
 public:
  SqliteWatch(const std::filesystem::path& file, std::function<void()> on_work,
              std::chrono::milliseconds fallback)
      : watcher_(file, std::move(on_work), fallback) {}

 private:
  SqliteWorkWatcher watcher_;
};
}  // namespace

std::unique_ptr<JobQueue> open_queue(const QueueSettings& s) {
  if (s.backend == "sqlite") {
    if (s.sqlite_file.empty()) throw std::invalid_argument("queue: sqlite needs a file");
    return std::make_unique<SqliteJobQueue>(s.sqlite_file);
  }
  if (s.backend == "postgres" || s.backend == "postgresql") {
    if (s.url.empty()) throw std::invalid_argument("queue.url: postgres needs a URL (SY_QUEUE_URL)");
    return std::make_unique<PostgresJobQueue>(s.url, s.connections, s.deadline);
  }
  throw std::invalid_argument("queue.backend: unknown backend '" + s.backend +
                              "' (sqlite or postgres)");
}

std::unique_ptr<WorkWatch> watch_for_work(const QueueSettings& s, std::function<void()> on_work,
                                          std::chrono::milliseconds fallback) {
  if (s.backend == "postgres" || s.backend == "postgresql")
    return std::make_unique<PostgresWatch>(s.url, std::move(on_work), fallback);
  if (s.backend == "sqlite" && !s.sqlite_file.empty())
    return std::make_unique<SqliteWatch>(s.sqlite_file, std::move(on_work), fallback);
  return nullptr;
}

}  // namespace sy::queue
