#include "cli/backends.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace sy::cli {

std::optional<service::Config> load_config(const std::string& file,
                                           const std::function<void(service::Config&)>& apply_flags) {
  service::Config config;
  try {
    if (!file.empty()) service::apply_toml_file(config, file);
    service::apply_environment(config, [](const char* name) { return std::getenv(name); });
    apply_flags(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return std::nullopt;
  }
  return config;
}

queue::QueueSettings queue_settings(const service::Config& config) {
  queue::QueueSettings s;
  s.backend = config.queue_backend;
  s.url = config.queue_url;
  s.sqlite_file = config.data_dir / "queue.db";
  s.connections = std::max(2, config.io_threads + 2);
  s.deadline = config.queue_deadline;
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

storage::StoreSettings store_settings(const service::Config& config, unsigned short bound_port) {
  storage::StoreSettings s;
  s.backend = config.storage_backend;
  s.local.root = config.data_dir;
  s.local.public_url = config.effective_public_url(bound_port);
  s.local.credentials.access_key = config.access_key;
  s.local.credentials.secret_key = config.secret_key;
  s.local.max_object_bytes = config.max_upload_bytes;
  s.s3.endpoint = config.s3_endpoint;
  s.s3.public_endpoint = config.s3_public_endpoint;
  s.s3.bucket = config.s3_bucket;
  s.s3.region = config.s3_region;
  s.s3.path_style = config.s3_path_style;
  s.s3.access_key = config.s3_access_key;
  s.s3.secret_key = config.s3_secret_key;
  s.s3.call_deadline = config.s3_call_deadline;
  return s;
}

}  // namespace sy::cli
