#pragma once
// Housekeeping: uploads never completed expire, jobs and objects past their retention go,
// temporary files of broken uploads, objects without a job and results of failed jobs are
// removed.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "queue/job_queue.h"
#include "storage/object_store.h"
#include "storage/presigned_endpoint.h"

namespace sy::service {

struct JanitorOptions {
  std::chrono::seconds retention{24 * 3600};
  std::chrono::seconds upload_url_ttl{15 * 60};
  std::chrono::seconds interval{60};
  std::chrono::seconds grace{60};  // after a URL expires, for a PUT that started just in time
};

struct JanitorReport {
  std::size_t uploads_expired = 0;
  std::size_t jobs_removed = 0;
  std::size_t orphans_removed = 0;
  std::size_t failed_results_removed = 0;  // results and attempt uploads of failed jobs
  std::size_t temp_files_removed = 0;
};

class Janitor {
 public:
  Janitor(JanitorOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
          storage::PresignedEndpoint* endpoint);
  ~Janitor();
  JanitorReport run_once(storage::Clock::time_point now = storage::Clock::now());
  void start();
  void stop();

 private:
  JanitorOptions options_;
  queue::JobQueue& queue_;
  storage::ObjectStore& store_;
  storage::PresignedEndpoint* endpoint_;  // its unfinished PUTs are cleared too; may be null
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sy::service
