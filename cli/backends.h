#pragma once
// The queue and object store a process uses, chosen by configuration ([queue] backend,
// [storage] backend): embedded SQLite + local files for one machine, PostgreSQL + S3 to
// scale out. `serve` and `worker` share this so both always agree.
#include <signal.h>

#include <memory>

#include "queue/job_queue.h"
#include "queue/queue_factory.h"
#include "service/config.h"
#include "storage/local/local_store.h"
#include "storage/object_store.h"

namespace sy::cli {

queue::QueueSettings queue_settings(const service::Config& config);

// The S3 store for `storage.backend = "s3"`, else null.
std::unique_ptr<storage::ObjectStore> open_s3_store(const service::Config& config);

// Blocks SIGINT and SIGTERM in this thread (and every thread started after it) and returns
// the set, so the caller can sigwait() for a stop request without interrupting the server.
sigset_t block_stop_signals();

}  // namespace sy::cli
