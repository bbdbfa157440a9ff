#include "service/janitor.h"

#include <optional>
#include <unordered_map>

#include "base/log.h"
#include "storage/keys.h"

namespace sy::service {

Janitor::Janitor(JanitorOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
                 storage::PresignedEndpoint* endpoint)
    : options_(options), queue_(queue), store_(store), endpoint_(endpoint) {}

Janitor::~Janitor() { stop(); }

JanitorReport Janitor::run_once(storage::Clock::time_point now) {
  JanitorReport report;
  // API servers sharing a queue sweep one at a time (PostgreSQL: an advisory lock).
  const auto turn = queue_.try_exclusive("janitor");
  if (!turn) return report;
  const auto grace = options_.grace;
  for (const auto& id : queue_.expire_uploads(now - options_.upload_url_ttl - grace)) {
    store_.remove_prefix("uploads/" + id + "/");
    ++report.uploads_expired;
  }
  for (const auto& id : queue_.finished_before(now - options_.retention)) {
    // A rerender still to run reads this job's upload: the orphan sweep takes it once none does.
    const auto job = queue_.get(id);
    store_.remove_job(id, job && queue_.upload_in_use(job->upload_key));
    if (queue_.remove(id)) ++report.jobs_removed;
  }
  // Objects whose job is gone (deleted while a worker still wrote, or a crash between steps),
  // and what renders of a failed job left: a scaled-out worker that died on the job's last
  // attempt after moving its result into place, before recording the job done, leaves a
  // result no one removes (the job fails when a claim finds its lease run out). Nothing
  // writes there once the job is failed, so age does not matter.
  // A job's objects sit under several roots (its upload, result, attempts): the queue is
  // asked once a job per sweep.
  std::unordered_map<std::string, std::optional<queue::JobStatus>> status_of;
  for (const std::string_view prefix : storage::kJobKeyRoots) {
    for (const auto& obj : store_.list(std::string(prefix))) {
      const std::string rest = obj.key.substr(prefix.size());
      const std::string id = rest.substr(0, rest.find('/'));
      auto known = status_of.find(id);
      if (known == status_of.end()) {
        const auto job = queue_.get(id);
        known = status_of.emplace(id, job ? std::optional(job->status) : std::nullopt).first;
      }
      if (const auto status = known->second) {
        if (*status == queue::JobStatus::kFailed && prefix != "uploads/") {
          store_.remove(obj.key);
          ++report.failed_results_removed;
        }
        continue;
      }
      if (obj.modified > now - options_.upload_url_ttl - grace || queue_.upload_in_use(obj.key))
        continue;
      store_.remove(obj.key);
      ++report.orphans_removed;
    }
  }
  if (endpoint_)
    report.temp_files_removed = endpoint_->remove_stale_temp_files(options_.upload_url_ttl + grace);
  if (report.uploads_expired || report.jobs_removed || report.orphans_removed ||
      report.failed_results_removed || report.temp_files_removed)
    base::log::info("janitor", {{"uploads_expired", report.uploads_expired},
                          {"jobs_removed", report.jobs_removed},
                          {"orphans_removed", report.orphans_removed},
                          {"failed_results_removed", report.failed_results_removed},
                          {"temp_files_removed", report.temp_files_removed}});
  return report;
}

void Janitor::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        run_once();
      } catch (const std::exception& e) {
        base::log::error("janitor failed", {{"error", e.what()}});
      }
      lock.lock();
      cv_.wait_for(lock, options_.interval, [&] { return stopping_; });
    }
  });
}

void Janitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sy::service
