#include "worker/failed_job.h"

#include "base/log.h"

namespace sy::worker {

void remove_results_of_failed_job(storage::ObjectStore& store, const std::string& job_id) {
  try {
    store.remove_job(job_id, /*keep_upload=*/true);
  } catch (const std::exception& e) {
    base::log::warn("cannot remove a failed job's results", {{"job_id", job_id}, {"error", e.what()}});
  }
}

}  // namespace sy::worker
