#pragma once
// Workers lease a job, fetch its upload, render it, store the result and acknowledge —
// or retry/fail it. The pool renews the leases of running jobs and cancels a render whose
// job was deleted or whose lease was lost.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/filter_cache.h"
#include "io/decoder.h"
#include "queue/job_queue.h"
#include "storage/object_store.h"
#include "worker/render_limits.h"

namespace sy::worker {

struct WorkerPoolOptions {
  int workers = 1;
  std::chrono::milliseconds lease{60000};
  std::chrono::milliseconds poll{1000};               // how often idle workers look for work
  std::chrono::milliseconds progress_interval{250};   // throttles progress writes
  // After an attempt met a transient error (disk full, out of descriptors, the database or
  // the store away) the worker pauses this long before it claims again, doubling up to
  // transient_pause_max while the trouble lasts.
  std::chrono::milliseconds transient_pause{1000};
  std::chrono::milliseconds transient_pause_max{30000};
  std::filesystem::path scratch_dir;                  // renders are written here first
  io::InputLimits limits;
  std::string sofa_path;
  // Niceness of the render threads (and the threads they start): > 0 lets a server in the
  // same process answer requests first while renders use whatever CPU is left.
  int nice = 0;
  // The lease owner name: with one worker exactly this, else this + "-w<i>". Empty: made
  // unique per process run (host, pid, random). A supervisor sets it for its children.
  std::string worker_id;
  // An attempt over its time limit (RenderLimits::attempt_time) is stopped and counted as
  // failed with kReasonTime; the other limits are the process's, set by whoever starts it.
  RenderLimits attempt_limits;
  // Told when an attempt starts and, once the decoder knows it, the song's length.
  std::function<void(const queue::Job& job, const std::string& worker)> on_start;
  std::function<void(const queue::Job& job, double seconds)> on_length;
  // Run once when the pool starts, on a thread of its own beside the claiming: a long-lived
  // worker makes what every render needs (the usual binaural filters into `filters`, FFT
  // plans) while it is idle, so its first job does not pay for them. A job that arrives
  // meanwhile waits for the design in progress instead of making its own (the cache's rule).
  std::function<void(engine::BinauralFilterCache& filters)> warm_up;
  // Where designed filters are kept between processes (engine/filter_store.h); empty: memory only.
  std::string filter_store_dir;
  // Test only (SY_TEST_CRASH_MARKER, set by a test on its own server): an upload that starts
  // with these bytes makes the render process abort, as a decoder crash would.
  std::string crash_marker;
  // Test only (SY_TEST_KILL_AFTER_MOVE): a job whose file name is this makes the render
  // process kill itself right after moving its result into place, before recording the job
  // done — the one moment a dying process leaves a whole result behind.
  std::string kill_after_move_filename;
};

// Called when a job leaves a worker: outcome "done", "retry", "failed", "released",
// "abandoned" (deleted or lost while running).
using JobObserver = std::function<void(const queue::Job& job, std::string_view outcome,
                                       double wall_seconds, double realtime_factor)>;

class WorkerPool {
 public:
  WorkerPool(WorkerPoolOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
             JobObserver observer = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void start();
  // New work is queued: wake an idle worker now instead of at its next poll.
  void wake();
  // Stops the render of `job_id` if it runs here (DELETE of the job).
  void cancel(const std::string& job_id);
  // Stops claiming, cancels running renders and hands their jobs back to the queue.
  void stop();
  int busy() const { return busy_.load(); }

 private:
  struct Active {
    std::string worker;
    std::atomic<bool> cancel{false};
  };
  void run_worker(int index);
  // True when the attempt met trouble of the machine, not of the file (base::TransientError
  // and its kin): the job went back to the queue uncounted and this worker waits a while.
  bool run_job(const std::string& worker, const queue::Job& job);
  // Runs a queue call again while the queue is unavailable (a database restart), for up to
  // `patience`: the outcome of a finished render is worth waiting for.
  template <typename Call>
  auto keep_trying(Call call, std::chrono::milliseconds patience) -> decltype(call());
  void renew_leases();
  // Moves the attempt's upload `from` to the job's result key `to` (PRODUCT.md's
  // processed/<id>/<name>), only while `worker` still holds the job with room to spare.
  // False, and nothing moved, when the lease is gone or the job deleted.
  bool publish(const queue::Job& job, const std::string& worker, const std::string& from,
               const std::string& to);
  // After a complete() that found the job gone: its result object goes too.
  void forget_result_of_deleted_job(const std::string& job_id, const std::string& key);

  WorkerPoolOptions options_;
  queue::JobQueue& queue_;
  storage::ObjectStore& store_;
  JobObserver observer_;
  std::string id_prefix_;
  // The pool's renders share their binaural filter designs: a worker designs each preset's
  // filters once, not once per job.
  engine::BinauralFilterCache filter_cache_;

  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t wake_generation_ = 0;
  std::map<std::string, std::shared_ptr<Active>> active_;
  std::vector<std::thread> threads_;
};

}  // namespace sy::worker
