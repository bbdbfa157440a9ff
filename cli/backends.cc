#include "cli/backends.h"

#include "storage/s3/s3_store.h"

namespace sy::cli {

queue::QueueSettings queue_settings(const service::Config& config) {
  queue::QueueSettings s;
  s.backend = config.queue_backend;
  s.url = config.queue_url;
  s.sqlite_file = config.data_dir / "queue.db";
  s.connections = std::max(2, config.io_threads + 2);
  return s;
}

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

std::unique_ptr<storage::ObjectStore> open_s3_store(const service::Config& config) {
  if (config.storage_backend != "s3") return nullptr;
  storage::S3Options o;
  o.endpoint = config.s3_endpoint;
  o.public_endpoint = config.s3_public_endpoint;
  o.bucket = config.s3_bucket;
  o.region = config.s3_region;
  o.path_style = config.s3_path_style;
  o.access_key = config.s3_access_key;
  o.secret_key = config.s3_secret_key;
  return std::make_unique<storage::S3ObjectStore>(o);
}

}  // namespace sy::cli
