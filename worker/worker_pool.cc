#include "worker/worker_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <system_error>

#include "base/errors.h"
#include "pipeline/render.h"
#include "base/log.h"
#include "storage/keys.h"
#include "worker/failed_job.h"
#include "worker/failure_text.h"
#include "worker/job_settings.h"
#include "worker/worker_names.h"

namespace sy::worker {
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

// result.report: what was measured on the delivered file and, with beat-synced motion, the
// tempo the turns follow. No tempo without a clear beat: the note then says what was done.
nlohmann::json result_report(const pipeline::RenderResult& r) {
  nlohmann::json report = pipeline::report_json(r.report, engine::SettingNames::kJson);
  if (r.tempo_bpm > 0) report["tempoBpm"] = std::round(r.tempo_bpm * 10) / 10;
  if (!r.motion_note.empty()) report["note"] = r.motion_note;
  return report;
}

// Errors of the machine rather than the file: base::TransientError (disk full, the database
// or store away) and system errors — std::filesystem's included — whose errno says so.
bool is_transient(const std::exception& e) {
  if (dynamic_cast<const base::TransientError*>(&e) != nullptr) return true;
  const auto* system = dynamic_cast<const std::system_error*>(&e);
  return system != nullptr && base::is_transient_errno(system->code().value());
}

void abort_on_marker(const fs::path& input, const std::string& marker) {
  std::string head(marker.size(), '\0');
  std::ifstream in(input, std::ios::binary);
  if (in.read(head.data(), static_cast<std::streamsize>(head.size())) && head == marker) std::abort();
}

}  // namespace

WorkerPool::WorkerPool(WorkerPoolOptions options, queue::JobQueue& queue,
                       storage::ObjectStore& store, JobObserver observer)
    : options_(std::move(options)), queue_(queue), store_(store), observer_(std::move(observer)) {
  id_prefix_ = !options_.worker_id.empty() ? options_.worker_id : process_worker_prefix();
  if (options_.workers < 1) options_.workers = 1;
  fs::create_directories(options_.scratch_dir);
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::start() {
  stopping_ = false;
  filter_cache_.keep_on_disk(options_.filter_store_dir);
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { run_worker(i); });
  threads_.emplace_back([this] { renew_leases(); });
  if (options_.warm_up) {
    threads_.emplace_back([this] {
      // As low a priority as the renders: it yields to them and to anything else here.
      if (options_.nice != 0) (void)::setpriority(PRIO_PROCESS, 0, options_.nice);
      try {
        options_.warm_up(filter_cache_);
      } catch (const std::exception& e) {  // the first job designs for itself and says why
        base::log::warn("cannot prepare the renders ahead", {{"error", e.what()}});
      }
    });
  }
}

void WorkerPool::wake() {
  {
    std::lock_guard lock(mutex_);
    ++wake_generation_;
  }
  wake_.notify_all();
}

void WorkerPool::cancel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  if (auto it = active_.find(job_id); it != active_.end()) it->second->cancel = true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto& [id, active] : active_) active->cancel = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WorkerPool::run_worker(int index) {
  const std::string worker = !options_.worker_id.empty() && options_.workers == 1
                                 ? options_.worker_id
                                 : id_prefix_ + "-w" + std::to_string(index);
  // On Linux this thread's niceness alone; best effort (a lower priority is always allowed).
  if (options_.nice != 0) (void)::setpriority(PRIO_PROCESS, 0, options_.nice);
  auto pause = options_.transient_pause;
  while (!stopping_) {
    std::optional<queue::Job> job;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex_);
      generation = wake_generation_;
    }
    try {
      job = queue_.claim(worker, options_.lease);
    } catch (const std::exception& e) {
      // The database is away, say: look again at the next poll; nothing is lost meanwhile.
      base::log::error("claim failed", {{"worker", worker}, {"error", e.what()}});
    }
    if (!job) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, options_.poll,
                     [&] { return stopping_.load() || wake_generation_ != generation; });
      continue;
    }
    ++busy_;
    bool trouble = false;
    try {
      trouble = run_job(worker, *job);
    } catch (const std::exception& e) {
      // The queue itself failed while recording the outcome; the lease will expire and the
      // job comes back.
      base::log::error("job bookkeeping failed", {{"job_id", job->id}, {"error", e.what()}});
      std::lock_guard lock(mutex_);
      active_.erase(job->id);
      trouble = is_transient(e);
    }
    --busy_;
    if (!trouble) {
      pause = options_.transient_pause;
      continue;
    }
    // A full disk or a store that is away is not cured by claiming again at once: the job
    // waits in the queue (for this worker or another) while this one pauses.
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, pause, [&] { return stopping_.load(); });
    pause = std::min(pause * 2, options_.transient_pause_max);
  }
}

template <typename Call>
auto WorkerPool::keep_trying(Call call, std::chrono::milliseconds patience) -> decltype(call()) {
  const auto until = Steady::now() + patience;
  auto pause = std::chrono::milliseconds(250);
  for (;;) {
    try {
      return call();
    } catch (const base::TransientError& e) {
      if (stopping_ || Steady::now() + pause > until) throw;
      base::log::warn("the queue is unavailable, trying again", {{"error", e.what()}});
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, pause, [&] { return stopping_.load(); });
      pause = std::min(pause * 2, std::chrono::milliseconds(5000));
    }
  }
}

void WorkerPool::renew_leases() {
  const auto period = std::max(options_.lease / 3, std::chrono::milliseconds(50));
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, period, [&] { return stopping_.load(); });
      if (stopping_) return;
    }
    std::vector<std::pair<std::string, std::shared_ptr<Active>>> running;
    {
      std::lock_guard lock(mutex_);
      running.assign(active_.begin(), active_.end());
    }
    for (auto& [id, active] : running) {
      try {
        if (!queue_.renew(id, active->worker, options_.lease)) {
          base::log::warn("lease lost, stopping the render", {{"job_id", id}});
          active->cancel = true;
        }
      } catch (const std::exception& e) {
        base::log::error("lease renewal failed", {{"job_id", id}, {"error", e.what()}});
      }
    }
  }
}

bool WorkerPool::publish(const queue::Job& job, const std::string& worker,
                         const std::string& from, const std::string& to) {
  // Renewed first, the lease runs a whole lease from before the call; the move may take a
  // third of it. So a worker that lost the job never moves after another took it over, and
  // a move the store finishes late still lands long before the next attempt's own move,
  // which has a whole render to do first. No two attempts can write `to` at once.
  Steady::time_point renewed_at;
  const bool held = keep_trying(
      [&] {
        renewed_at = Steady::now();
        return queue_.renew(job.id, worker, options_.lease);
      },
      options_.lease);
  if (!held) return false;
  const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(
      renewed_at + options_.lease / 3 - Steady::now());
  if (budget < std::chrono::milliseconds(100))
    throw base::Unavailable("no time left in the lease to move the result into place");
  store_.move(from, to, budget);
  return true;
}

void WorkerPool::forget_result_of_deleted_job(const std::string& job_id, const std::string& key) {
  try {
    if (!queue_.get(job_id)) store_.remove(key);
  } catch (const std::exception& e) {  // the janitor removes objects of jobs that are gone
    base::log::warn("cannot remove a deleted job's result", {{"job_id", job_id}, {"error", e.what()}});
  }
}

bool WorkerPool::run_job(const std::string& worker, const queue::Job& job) {
  auto active = std::make_shared<Active>();
  active->worker = worker;
  {
    std::lock_guard lock(mutex_);
    active_[job.id] = active;
    if (stopping_) active->cancel = true;
  }
  const fs::path scratch = options_.scratch_dir / job.id;
  const auto started = Steady::now();
  base::log::info("job started", {{"job_id", job.id}, {"worker", worker}, {"attempt", job.attempts}});
  if (options_.on_start) options_.on_start(job, worker);
  // Until the song's length is known the attempt gets the base time; then more per second.
  auto deadline = started + options_.attempt_limits.attempt_time(0);
  bool length_known = false;
  bool over_time = false;

  // This attempt's upload of its result, under a key of its own (storage::attempt_key), so
  // it never lands on what another attempt wrote; removed unless it became the job's result.
  const std::string attempt = std::to_string(job.attempts) + "-" + random_suffix();
  std::string attempt_object;
  auto drop_result = [&] {
    if (attempt_object.empty()) return;
    try {
      store_.remove(attempt_object);
    } catch (const std::exception& e) {  // left for the janitor, with the job's other objects
      base::log::warn("cannot remove an unused result", {{"job_id", job.id}, {"error", e.what()}});
    }
  };
  // Where the attempt is: decides the sentence a failure leaves in the job (failure_text.h).
  AttemptStep step = AttemptStep::kPreparing;

  auto finish = [&](std::string_view outcome, double rtf) {
    std::error_code ec;
    fs::remove_all(scratch, ec);
    {
      std::lock_guard lock(mutex_);
      active_.erase(job.id);
    }
    const double wall = std::chrono::duration<double>(Steady::now() - started).count();
    if (observer_) observer_(job, outcome, wall, rtf);
  };

  // This attempt failed; the job is retried unless it was the last. Returns the outcome.
  // `reason` is what the job's error says (a sentence for the client), `detail` what the log
  // keeps.
  auto fail_attempt = [&](const std::string& reason, const std::string& detail) -> std::string_view {
    const auto status = queue_.fail(job.id, worker, reason, false);
    const bool dead = status && *status == queue::JobStatus::kFailed;
    if (dead) remove_results_of_failed_job(store_, job.id);
    base::log::error(dead ? "job failed after its last attempt" : "job attempt failed, will retry",
                     {{"job_id", job.id}, {"attempt", job.attempts}, {"error", reason}, {"detail", detail}});
    return dead ? "failed" : "retry";
  };

  try {
    fs::create_directories(scratch);
    JobSettings settings;
    try {
      settings = parse_job_settings(nlohmann::json::parse(job.settings_json), options_.limits);
    } catch (const std::exception& e) {
      base::log::warn("job failed: invalid settings", {{"job_id", job.id}, {"error", e.what()}});
      queue_.fail(job.id, worker, settings_failure_text(e), true);
      finish("failed", 0);
      return false;
    }
    settings.options.sofa_path = options_.sofa_path;
    settings.options.filter_cache = &filter_cache_;

    step = AttemptStep::kFetching;
    fs::path input;
    if (auto local = store_.local_path(job.upload_key); local && fs::exists(*local)) {
      input = *local;
    } else {
      if (!store_.stat(job.upload_key)) throw base::InputError("the upload is missing");
      input = scratch / ("input" + fs::path(job.upload_key).extension().string());
      store_.download_to_file(job.upload_key, input);
    }
    if (!options_.crash_marker.empty()) abort_on_marker(input, options_.crash_marker);
    if (settings.options.keep_format) {  // a video stays a video: known once the file is here
      settings.options.encode.format = pipeline::output_format(input.string(), settings.options);
      settings.options.keep_format = false;
      settings.format = io::format_name(settings.options.encode.format);
    }
    const fs::path output = scratch / ("output." + settings.format);
    step = AttemptStep::kRendering;

    auto last = Steady::now() - options_.progress_interval;
    std::string last_stage;
    const pipeline::ProgressFn progress = [&](const pipeline::Progress& p) {
      const auto now = Steady::now();
      if (!length_known && p.seconds_total > 0) {
        length_known = true;
        const double seconds = std::min(p.seconds_total, options_.limits.max_duration_seconds);
        deadline = started + options_.attempt_limits.attempt_time(seconds);
        if (options_.on_length) options_.on_length(job, seconds);
      }
      if (now > deadline && !over_time) {
        over_time = true;
        active->cancel = true;
      }
      const std::string stage = pipeline::stage_name(p.stage);
      if (now - last < options_.progress_interval && stage == last_stage) return;
      last = now;
      last_stage = stage;
      try {
        if (!queue_.report_progress(job.id, worker, std::min(p.fraction, 0.99), stage))
          active->cancel = true;
      } catch (const base::TransientError& e) {
        // Progress is a courtesy: the render goes on while the queue is away.
        base::log::warn("cannot report progress", {{"job_id", job.id}, {"error", e.what()}});
      }
    };
    const pipeline::RenderResult r =
        pipeline::render_file(input.string(), output.string(), settings.options, progress, &active->cancel);
    for (const std::string& w : r.warnings) base::log::warn("input partly left out", {{"job_id", job.id}, {"warning", w}});

    step = AttemptStep::kStoring;
    const bool preview = !settings.options.excerpt.whole_song();
    attempt_object = storage::attempt_key(job.id, job.filename, settings.format, attempt, preview);
    store_.upload_from_file(attempt_object, output);
    queue::JobResult result;
    result.key = storage::processed_key(job.id, job.filename, settings.format, preview);
    result.bytes = static_cast<std::int64_t>(fs::file_size(output));
    result.duration_seconds = r.duration_seconds;
    result.format = settings.format;
    result.wall_seconds = r.wall_seconds;
    result.report_json = result_report(r).dump();
    // Gone before the job is marked done, so whoever sees "done" finds no scratch left.
    std::error_code ec;
    fs::remove_all(scratch, ec);
    if (!publish(job, worker, attempt_object, result.key)) {
      // Deleted meanwhile, or the lease went to another worker, whose result stands.
      drop_result();
      base::log::warn("job finished after losing its lease; result dropped", {{"job_id", job.id}});
      finish("abandoned", 0);
      return false;
    }
    attempt_object.clear();  // moved: it is the job's result now
    if (!options_.kill_after_move_filename.empty() && job.filename == options_.kill_after_move_filename)
      ::raise(SIGKILL);
    step = AttemptStep::kRecording;
    // A database restart while the render ran does not cost the render: the outcome is
    // recorded once the queue is back (for up to a lease's time).
    if (!keep_trying([&] { return queue_.complete(job.id, worker, result); }, options_.lease)) {
      // The lease was lost after the move: the next attempt's move replaces this result
      // before it completes. A job deleted meanwhile takes its objects with it.
      forget_result_of_deleted_job(job.id, result.key);
      base::log::warn("job finished after losing its lease; result left to the next attempt",
                      {{"job_id", job.id}});
      finish("abandoned", 0);
      return false;
    }
    const double rtf = r.wall_seconds > 0 ? r.duration_seconds / r.wall_seconds : 0;
    base::log::info("job done", {{"job_id", job.id},
                           {"worker", worker},
                           {"seconds", r.wall_seconds},
                           {"realtime_factor", rtf},
                           {"bytes", result.bytes}});
    finish("done", rtf);
  } catch (const base::Cancelled&) {
    drop_result();
    if (over_time && !stopping_) {
      finish(fail_attempt(kReasonTime, "over the attempt's time"), 0);
    } else if (stopping_ && queue_.release(job.id, worker)) {
      base::log::info("job handed back for shutdown", {{"job_id", job.id}});
      finish("released", 0);
    } else {
      base::log::info("job cancelled", {{"job_id", job.id}});
      finish("abandoned", 0);
    }
    return false;
  } catch (const base::InputError& e) {
    drop_result();
    if (queue_.fail(job.id, worker, failure_text(step, e), true)) remove_results_of_failed_job(store_, job.id);
    base::log::warn("job failed: bad input", {{"job_id", job.id}, {"error", e.what()}});
    finish("failed", 0);
  } catch (const std::bad_alloc&) {
    // Under the process's address-space limit an allocation the file asked for failed.
    drop_result();
    finish(fail_attempt(kReasonMemory, "std::bad_alloc"), 0);
  } catch (const std::exception& e) {
    drop_result();
    if (stopping_ && active->cancel && queue_.release(job.id, worker)) {
      finish("released", 0);
      return false;
    }
    if (is_transient(e)) {
      // Not the file's fault (disk full, out of descriptors, the store away): the job goes
      // back uncounted and is rendered again once there is room.
      base::log::warn("job attempt met a transient error, handed back",
                      {{"job_id", job.id}, {"attempt", job.attempts}, {"error", e.what()}});
      keep_trying([&] { return queue_.release(job.id, worker); }, options_.lease);
      finish("retry", 0);
      return true;
    }
    finish(fail_attempt(failure_text(step, e), e.what()), 0);
  }
  return false;
}

}  // namespace sy::worker
