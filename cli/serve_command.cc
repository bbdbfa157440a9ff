// `surroundyou serve`: the single-node platform — API, embedded object store, durable
// queue and janitor in one process, renders in supervised child processes.
#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "cli/backends.h"
#include "cli/commands.h"
#include "cli/render_processes.h"
#include "queue/sqlite/sqlite_queue.h"
#include "service/api.h"
#include "service/config.h"
#include "service/janitor.h"
#include "base/log.h"
#include "service/metrics.h"
#include "service/server.h"
#include "storage/local/local_store.h"
#include "storage/sigv4.h"
#include "worker/supervisor.h"

namespace sy::cli {
namespace {

namespace fs = std::filesystem;

struct ServeFlags {
  std::string config;
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<int> workers;
  std::optional<std::string> public_url;
};

// The store's signing secret: given, or made once and kept beside the data (mode 0600),
// so presigned URLs survive restarts.
std::string load_or_create_secret(const fs::path& data_dir) {
  const fs::path file = data_dir / "store.secret";
  if (std::ifstream in(file); in) {
    std::string secret;
    std::getline(in, secret);
    if (secret.size() >= 32) return secret;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("RAND_bytes failed");
  const std::string secret =
      storage::to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  const fs::path tmp = data_dir / "store.secret.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + tmp.string());
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + tmp.string());
  fs::rename(tmp, file);
  return secret;
}

int run_serve(const ServeFlags& flags) {
  service::Config config;
  try {
    if (!flags.config.empty()) service::apply_toml_file(config, flags.config);
    service::apply_environment(config, [](const char* name) { return std::getenv(name); });
    if (flags.listen) config.listen = *flags.listen;
    if (flags.data_dir) config.data_dir = *flags.data_dir;
    if (flags.workers) config.workers = *flags.workers;
    if (flags.public_url) config.public_url = *flags.public_url;
    config.port();  // validates
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  }

  // Signals are taken by sigwait below; block them before any thread starts so none of the
  // server's threads is interrupted by them.
  const sigset_t signals = block_stop_signals();

  base::log::use_json_lines();
  try {
    fs::create_directories(config.data_dir);
    const fs::path scratch = config.data_dir / "work";
    fs::remove_all(scratch);  // renders a crash left half-written

    const auto queue_config = queue_settings(config);
    auto queue_owner = queue::open_queue(queue_config);
    queue::JobQueue& queue = *queue_owner;
    auto s3_store = open_s3_store(config);  // null: the embedded store
    storage::LocalStoreOptions store_options;
    store_options.root = config.data_dir;
    // Listen before anything signs URLs: with port 0 the bound port goes into the public URL.
    unsigned short port = 0;
    int server_listen_fd = -1;  // the Server takes it over below
    try {
      server_listen_fd = service::bind_listener(config.host(), config.port(), &port);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: cannot listen on %s: %s\n", config.listen.c_str(), e.what());
      return kExitFailure;
    }
    store_options.public_url = config.effective_public_url(port);
    store_options.credentials.access_key = config.access_key;
    store_options.credentials.secret_key =
        !config.secret_key.empty() ? config.secret_key
        : s3_store                 ? std::string()
                                   : load_or_create_secret(config.data_dir);
    store_options.max_object_bytes = config.max_upload_bytes;
    std::unique_ptr<storage::LocalObjectStore> local_store;
    if (!s3_store) local_store = std::make_unique<storage::LocalObjectStore>(store_options);
    storage::LocalObjectStore* local = local_store.get();
    storage::ObjectStore& store = s3_store ? *s3_store : *local_store;
    service::Metrics metrics;

    const int workers = config.workers >= 0
                            ? config.workers
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    io::InputLimits input_limits;
    input_limits.max_bytes = config.max_upload_bytes;
    input_limits.max_duration_seconds = config.max_duration_seconds;
    // This process never decodes audio: each render runs in a child under its limits.
    worker::Supervisor renders(render_children(config, flags.config, workers), queue,
                               [&metrics](const queue::Job&, std::string_view outcome, double wall,
                                          double rtf) { metrics.job_outcome(outcome, wall, rtf); });

    std::atomic<bool> ready{false};
    service::ApiOptions api_options;
    api_options.max_upload_bytes = config.max_upload_bytes;
    api_options.limits = input_limits;
    api_options.upload_url_ttl = config.upload_url_ttl;
    api_options.download_url_ttl = config.download_url_ttl;
    api_options.max_attempts = config.max_attempts;
    api_options.cors_origins = config.cors_origins;
    api_options.create_per_minute = config.create_per_minute;
    api_options.create_burst = config.create_burst;
    api_options.s3_events_secret = config.s3_events_secret;
    service::ApiHooks hooks;
    hooks.job_queued = [&renders] { renders.wake(); };
    hooks.job_deleted = [&renders](const std::string& id) { renders.cancel(id); };
    hooks.busy_workers = [&renders] { return renders.busy(); };
    hooks.ready = [&ready] { return ready.load(); };
    service::Api api(api_options, queue, store, local, metrics, hooks);
    store.set_object_created_handler(
        [&api](const storage::ObjectCreated& event) { api.on_object_created(event); });

    service::ServerOptions server_options;
    server_options.host = config.host();
    server_options.port = config.port();
    server_options.threads = config.io_threads;
    server_options.read_timeout = config.read_timeout;
    server_options.idle_timeout = config.idle_timeout;
    server_options.client_ip_header = config.client_ip_header;
    server_options.listen_fd = server_listen_fd;
    service::Server server(server_options, api, local, metrics);
    try {
      port = server.start();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: cannot listen on %s: %s\n", config.listen.c_str(), e.what());
      return kExitFailure;
    }
    service::Janitor janitor({config.retention, config.upload_url_ttl, config.janitor_interval,
                              config.janitor_grace},
                             queue, store, local);
    // --workers 0: an API server alone; stateless `surroundyou worker`s do the rendering.
    std::unique_ptr<queue::WorkWatch> watch;
    if (workers > 0) {
      renders.start();
      watch = queue::watch_for_work(queue_config, [&renders] { renders.wake(); },
                                    std::chrono::seconds(5));
    }
    janitor.start();
    ready = true;
    base::log::info("serving", {{"listen", config.host() + ":" + std::to_string(port)},
                          {"public_url", store_options.public_url},
                          {"data_dir", config.data_dir.string()},
                          {"workers", workers}});

    int signal = 0;
    sigwait(&signals, &signal);
    base::log::info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    ready = false;
    server.stop(config.shutdown_grace);  // no new requests; in-flight ones finish
    watch.reset();
    renders.stop();                       // running jobs go back to the queue
    janitor.stop();
    base::log::info("stopped");
    return kExitOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s (%s)\n", e.what(), config.data_dir.c_str());
    return kExitFailure;
  }
}

}  // namespace

void add_serve_command(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* sub = app.add_subcommand(
      "serve", "Run the single-node platform: HTTP API, embedded object store, durable queue, "
               "worker pool. Settings: --config FILE, then SY_* environment variables, then flags.");
  sub->add_option("--listen", flags->listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  sub->add_option("--data-dir", flags->data_dir, "where jobs and objects are kept (default ./data)");
  sub->add_option("--workers", flags->workers,
                  "render workers (default: one per core; 0: API only, for `surroundyou worker`s)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--config", flags->config, "TOML configuration file")->check(CLI::ExistingFile);
  sub->add_option("--public-url", flags->public_url,
                  "scheme://host[:port] clients use to reach this server (for presigned URLs)");
  sub->callback([&ctx, flags] { ctx.exit_code = run_serve(*flags); });
}

}  // namespace sy::cli
