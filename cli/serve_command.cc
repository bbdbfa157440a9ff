// `surroundyou serve`: the single-node platform — API, embedded object store, durable
// queue and janitor in one process, renders in supervised child processes.
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
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
#include "worker/scratch_dir.h"
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

int run_serve(const ServeFlags& flags) {
  const auto loaded = load_config(flags.config, [&flags](service::Config& config) {
    if (flags.listen) service::apply_flag(config, "server.listen", "--listen", *flags.listen);
    if (flags.data_dir) config.data_dir = *flags.data_dir;
    if (flags.workers) config.workers = *flags.workers;
    if (flags.public_url) config.public_url = *flags.public_url;
  });
  if (!loaded) return kExitUsage;
  const service::Config& config = *loaded;

  // Signals are taken by sigwait below; block them before any thread starts so none of the
  // server's threads is interrupted by them.
  const sigset_t signals = block_stop_signals();
  // Everything this process writes (queue, objects, renders) is its user's alone.
  ::umask(077);

  base::log::use_json_lines();
  if (std::error_code ec; fs::create_directories(config.data_dir, ec), ec) {
    std::fprintf(stderr, "error: cannot create the data folder: %s (%s)\n", ec.message().c_str(), config.data_dir.c_str());
    return kExitFailure;
  }
  try {
    // Other processes may share the data directory (docs/SCALING.md): only the scratch folders
    // of processes that are gone are removed, here and when the renders start.
    worker::remove_abandoned_scratch(config.data_dir / "work", worker::kScratchPrefix);

    const auto queue_config = queue_settings(config);
    auto queue_owner = queue::open_queue(queue_config);
    queue::JobQueue& queue = *queue_owner;
    // Listen before anything signs URLs: with port 0 the bound port goes into the public URL.
    unsigned short port = 0;
    int server_listen_fd = -1;  // the Server takes it over below
    try {
      server_listen_fd = service::bind_listener(config.host(), config.port(), &port);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: cannot listen on %s: %s\n", config.listen.c_str(), e.what());
      return kExitFailure;
    }
    const auto store_config = store_settings(config, port);
    auto store_owner = storage::open_store(store_config);
    storage::ObjectStore& store = *store_owner;
    // The embedded store's presigned URLs are answered by this server; S3 answers its own.
    auto* local = dynamic_cast<storage::LocalObjectStore*>(store_owner.get());
    service::Metrics metrics;

    const int workers = config.workers >= 0
                            ? config.workers
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    io::InputLimits input_limits;
    input_limits.max_bytes = config.max_upload_bytes;
    input_limits.max_duration_seconds = config.max_duration_seconds;
    // This process never decodes audio: each render runs in a child under its limits.
    worker::Supervisor renders(render_children(config, flags.config, workers), queue, store,
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
    if (config.storage_backend == "s3") api_options.s3_bucket = config.s3_bucket;
    api_options.data_dir = config.data_dir;
    api_options.min_free_bytes = config.min_free_mb * 1024 * 1024;
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
    server_options.header_timeout = config.header_timeout;
    server_options.max_connections = config.max_connections;
    server_options.max_connections_per_client = config.max_connections_per_client;
    server_options.max_discard_bytes = static_cast<std::uint64_t>(config.max_upload_bytes);
    server_options.client_ip_header = config.client_ip_header;
    server_options.listen_fd = server_listen_fd;
    service::Server server(server_options, api, metrics);
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
                          {"public_url", store_config.local.public_url},
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
  sub->add_option("--listen", flags->listen, "Address to listen on (default 127.0.0.1:8080)")
      ->option_text("HOST:PORT");
  sub->add_option("--data-dir", flags->data_dir, "Where jobs and objects are kept (default ./data)")->option_text("DIR");
  sub->add_option("--workers", flags->workers,
                  "Render processes (default: one per core; 0: the API alone, for `surroundyou worker`s)")
      ->check(CLI::NonNegativeNumber)
      ->option_text("N");
  sub->add_option("--config", flags->config, "TOML configuration file (keys in docs/API.md)")
      ->check(CLI::ExistingFile)
      ->option_text("FILE");
  sub->add_option("--public-url", flags->public_url,
                  "How clients reach this server, scheme://host[:port] (presigned URLs are signed for it)")
      ->option_text("URL");
  sub->footer(kServiceExitStatus);
  sub->callback([&ctx, flags] { ctx.exit_code = run_serve(*flags); });
}

}  // namespace sy::cli
