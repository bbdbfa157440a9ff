// `surroundyou worker`: one stateless render worker for the scaled-out setup. It takes jobs
// from the configured queue (PostgreSQL), reads uploads from and writes results to the
// configured object store (S3), and keeps nothing of its own: any number can run anywhere.
// `serve` runs its renders as children of this command (--supervisor-fd), one job each.
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "cli/backends.h"
#include "cli/commands.h"
#include "cli/render_processes.h"
#include "engine/convolver.h"
#include "engine/renderer.h"
#include "service/config.h"
#include "base/log.h"
#include "worker/job_settings.h"
#include "worker/scratch_dir.h"
#include "worker/supervisor_link.h"
#include "worker/worker_pool.h"

namespace sy::cli {
namespace {

namespace fs = std::filesystem;

// What a job with the default settings makes before its first block — the HRTF set read, the
// decoder's filters designed, FFTW's plans measured (≈1.9 G instructions, 0.5-0.8 s) — made
// while the worker waits for its first job, and FFTW's plans kept for the next process. At
// 44.1 kHz only: most uploads are (MP3, CD rips), and a second rate would cost every fresh
// child another full design; a 48 kHz song designs its filters once, on first use.
void prepare_renders(engine::BinauralFilterCache& filters, const std::string& sofa_path,
                     const io::InputLimits& limits, const std::string& wisdom) {
  const auto started = std::chrono::steady_clock::now();
  const worker::JobSettings defaults = worker::parse_job_settings(nlohmann::json::object(), limits);
  const auto renderer = engine::make_renderer(
      defaults.options.engine, sofa_path.empty() ? std::string(engine::kDefaultSofaPath) : sofa_path, &filters);
  renderer->prepare(44100, defaults.options.block_frames);
  if (!wisdom.empty()) engine::export_fftw_wisdom(wisdom);
  base::log::info("renders prepared",
                  {{"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}});
}

struct WorkerFlags {
  std::string config;
  std::optional<int> jobs;
  std::optional<std::string> scratch_dir;
  // Set by a supervisor (serve) for its children.
  std::optional<int> supervisor_fd;
  std::optional<std::string> worker_id;
};

int run_worker(const WorkerFlags& flags) {
  const auto loaded = load_config(flags.config, [&flags](service::Config& config) {
    if (flags.jobs) config.workers = *flags.jobs;
  });
  if (!loaded) return kExitUsage;
  const service::Config& config = *loaded;

  const sigset_t signals = block_stop_signals();
  // Everything this process writes (queue, objects, renders) is its user's alone.
  ::umask(077);
  worker::exit_distinctly_when_memory_runs_out();
  const worker::RenderLimits limits = render_limits(config);
  if (!flags.supervisor_fd) {
    // Run by hand, the worker holds itself to the limits serve sets on its children (the
    // memory limit once per job it renders at once).
    worker::RenderLimits own = limits;
    if (own.memory_mb > 0) own.memory_mb *= std::max(1, config.workers);
    try {
      worker::apply_to_self(own);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return kExitFailure;
    }
  }

  base::log::use_json_lines();
  // A supervised child works in the folder its supervisor made and owns. A worker of its own
  // makes a folder of its own in the parent (beside other processes' folders, whose renders
  // it leaves alone): the data directory's work/ when it shares the embedded store.
  std::unique_ptr<worker::ScratchDir> own_scratch;
  fs::path scratch;
  try {
    if (flags.supervisor_fd && flags.scratch_dir) {
      scratch = *flags.scratch_dir;
      fs::remove_all(scratch);
    } else {
      const fs::path parent = flags.scratch_dir              ? fs::path(*flags.scratch_dir)
                              : config.storage_backend == "local" ? config.data_dir / "work"
                                                               : fs::temp_directory_path();
      worker::remove_abandoned_scratch(parent, worker::kScratchPrefix);
      own_scratch = std::make_unique<worker::ScratchDir>(
          parent, std::string(worker::kScratchPrefix) + "worker-");
      scratch = own_scratch->path();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: cannot make a scratch folder: %s\n", e.what());
    return kExitFailure;
  }
  try {
    const auto queue_config = queue_settings(config);
    auto queue = queue::open_queue(queue_config);
    // The embedded store works when the workers share its folder (one machine, or a shared
    // file system).
    auto store = storage::open_store(store_settings(config));

    worker::WorkerPoolOptions options;
    options.workers = config.workers > 0 ? config.workers : 1;
    options.lease = config.lease;
    options.poll = std::chrono::seconds(5);  // a safety net: wake-ups come from LISTEN/NOTIFY
    options.scratch_dir = scratch;
    options.limits.max_bytes = config.max_upload_bytes;
    options.limits.max_duration_seconds = config.max_duration_seconds;
    options.sofa_path = config.sofa_path;
    options.attempt_limits = limits;
    if (flags.worker_id) options.worker_id = *flags.worker_id;
#ifdef SY_TEST_HOOKS
    if (const char* marker = std::getenv("SY_TEST_CRASH_MARKER")) options.crash_marker = marker;
    if (const char* name = std::getenv("SY_TEST_KILL_AFTER_MOVE")) options.kill_after_move_filename = name;
#endif
    const std::string wisdom = fftw_wisdom_path();
    if (!wisdom.empty()) engine::import_fftw_wisdom(wisdom);
    options.filter_store_dir = filter_store_dir();
    options.warm_up = [sofa = options.sofa_path, limits = options.limits,
                       wisdom](engine::BinauralFilterCache& filters) {
      prepare_renders(filters, sofa, limits, wisdom);
    };
    // Under a supervisor: say which job this process renders, so that if it dies the job
    // goes back to the queue at once; and take the wake-ups the API sends.
    std::unique_ptr<worker::SupervisorLink> link;
    worker::JobObserver observer;
    if (flags.supervisor_fd) {
      link = std::make_unique<worker::SupervisorLink>(*flags.supervisor_fd);
      options.on_start = [&link](const queue::Job& job, const std::string&) { link->started(job.id); };
      options.on_length = [&link](const queue::Job& job, double s) { link->length(job.id, s); };
      observer = [&link](const queue::Job& job, std::string_view outcome, double wall, double rtf) {
        link->ended(job.id, outcome, wall, rtf);
      };
    }
    worker::WorkerPool pool(options, *queue, *store, observer);
    // The link calls into the pool: it stops reading before the pool is gone, however this ends.
    struct StopReading {
      worker::SupervisorLink* link;
      ~StopReading() {
        if (link) link->stop_reading();
      }
    } stop_reading{link.get()};
    if (link) {
      link->start({[&pool] { pool.wake(); }, [&pool](const std::string& id) { pool.cancel(id); },
                   [] { ::kill(::getpid(), SIGTERM); }});  // the supervisor is gone: stop
    }
    pool.start();
    // A child of `serve` is woken through its link (the supervisor watches the queue once
    // for all its children); a worker on its own watches the queue itself.
    std::unique_ptr<queue::WorkWatch> watch;
    if (!link) watch = queue::watch_for_work(queue_config, [&pool] { pool.wake(); }, options.poll);
    base::log::info("worker started", {{"queue", config.queue_backend},
                                 {"storage", config.storage_backend},
                                 {"jobs", options.workers},
                                 {"scratch", scratch.string()}});

    int signal = 0;
    sigwait(&signals, &signal);
    base::log::info("worker stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
                                  {"busy", pool.busy()}});
    watch.reset();
    pool.stop();  // a running render is cancelled and its job handed back, not counted
    if (!wisdom.empty()) engine::export_fftw_wisdom(wisdom);  // plans other settings made
    std::error_code ec;
    if (!own_scratch) fs::remove_all(scratch, ec);
    base::log::info("worker stopped");
    return kExitOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    std::error_code ec;
    if (!own_scratch) fs::remove_all(scratch, ec);
    return kExitFailure;
  }
}

}  // namespace

void add_worker_command(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<WorkerFlags>();
  CLI::App* sub = app.add_subcommand(
      "worker", "Run a stateless render worker on the configured queue and object store "
                "(PostgreSQL + S3 to scale out). Settings: --config FILE, then SY_* environment "
                "variables, then flags. SIGTERM hands a running job back and exits.");
  sub->add_option("--config", flags->config, "TOML configuration file (keys in docs/API.md)")
      ->check(CLI::ExistingFile)
      ->option_text("FILE");
  sub->add_option("--jobs", flags->jobs, "Jobs rendered at once (default 1)")
      ->check(CLI::PositiveNumber)
      ->option_text("N");
  sub->add_option("--scratch-dir", flags->scratch_dir,
                  "Where this worker makes its folder for renders in flight (default: the "
                  "data directory's work/ with the embedded store, else the temp folder)")
      ->option_text("DIR");
  // Internal: how serve starts its render children (the channel's descriptor, the lease owner).
  sub->add_option("--supervisor-fd", flags->supervisor_fd)->group("")->check(CLI::NonNegativeNumber);
  sub->add_option("--worker-id", flags->worker_id)->group("");
  sub->footer(kServiceExitStatus);
  sub->callback([&ctx, flags] { ctx.exit_code = run_worker(*flags); });
}

}  // namespace sy::cli
