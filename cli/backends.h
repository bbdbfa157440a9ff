#pragma once
// The queue and object store a process uses, chosen by configuration ([queue] backend,
// [storage] backend): embedded SQLite + local files for one machine, PostgreSQL + S3 to
// scale out. `serve` and `worker` share this so both always agree.
#include <signal.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "queue/job_queue.h"
#include "queue/queue_factory.h"
#include "service/config.h"
#include "storage/store_factory.h"

namespace sy::cli {

// The configuration both read: the TOML file (when named), then the environment, then the
// command's own flags (`apply_flags`, which win). nullopt, after an `error:` line on stderr,
// when any of it is wrong.
std::optional<service::Config> load_config(const std::string& file,
                                           const std::function<void(service::Config&)>& apply_flags);

queue::QueueSettings queue_settings(const service::Config& config);

// The object store's settings. `bound_port`: the port `serve` actually listens on (it differs
// when listen asks for port 0), for the embedded store's presigned URLs; 0 in a worker, which
// never signs them.
storage::StoreSettings store_settings(const service::Config& config, unsigned short bound_port = 0);

// Blocks SIGINT and SIGTERM in this thread (and every thread started after it) and returns
// the set, so the caller can sigwait() for a stop request without interrupting the server.
sigset_t block_stop_signals();

}  // namespace sy::cli
