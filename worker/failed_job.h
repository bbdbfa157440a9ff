#pragma once
// What a job recorded as failed for good must not keep: a result an attempt moved into place
// (processed/<id>/...) before its completion could be recorded — the child was killed between
// the move and the queue's update, say — and any attempt's unmoved upload. A failed job never
// has a result to download, so these objects are only waste until retention.
#include <string>

#include "storage/object_store.h"

namespace sy::worker {

// Safe once the queue says the job is failed: no attempt moves a result into place any more
// (WorkerPool::publish renews the lease first, which a failed job no longer has). The upload
// stays: a rerender reads it. A store error is logged; the janitor removes what is left.
void remove_results_of_failed_job(storage::ObjectStore& store, const std::string& job_id);

}  // namespace sy::worker
