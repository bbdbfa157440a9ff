#pragma once
// The queue and object store a process uses, chosen by configuration ([queue] backend,
// [storage] backend): embedded SQLite + local files for one machine, PostgreSQL + S3 to
// scale out. `serve` and `worker` share this so both always agree.
#include <signal.h>

#include <memory>

#include "queue/job_queue.h"
#include "queue/queue_factory.h"
#include "service/config.h"
#include "storage/store_factory.h"

namespace sy::cli {

queue::QueueSettings queue_settings(const service::Config& config);

// The object store's settings. `bound_port`: the port `serve` actually listens on (it differs
// when listen asks for port 0), for the embedded store's presigned URLs; 0 in a worker, which
// never signs them.
storage::StoreSettings store_settings(const service::Config& config, unsigned short bound_port = 0);

// Blocks SIGINT and SIGTERM in this thread (and every thread started after it) and returns
// the set, so the caller can sigwait() for a stop request without interrupting the server.
sigset_t block_stop_signals();

}  // namespace sy::cli
