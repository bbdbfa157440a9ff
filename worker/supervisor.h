#pragma once
// Runs renders in long-lived child processes, the way PostgreSQL's postmaster runs its
// backends and Android runs media parsing in mediaextractor: a child that crashes, runs out of
// memory or time ends one attempt of one job, never the server. Restart semantics follow an
// Erlang/OTP one_for_one supervisor: a dead child is replaced at once (with a growing pause
// only while it keeps dying before it took any work), and the job it held goes back to the
// queue at once with a reason a person understands.
//
// Each child is `<program> <args...> --supervisor-fd 3 --worker-id ID --scratch-dir DIR`
// under the RenderLimits: address space, file size and open files set between fork and exec;
// CPU time (RLIMIT_CPU moved per attempt with prlimit) and wall-clock time (SIGKILL at the
// deadline) per attempt, growing with the song's length once the child reports it.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "queue/job_queue.h"
#include "storage/object_store.h"
#include "worker/render_limits.h"
#include "worker/scratch_dir.h"
#include "worker/worker_pool.h"

namespace sy::worker {

struct SupervisorOptions {
  int children = 1;
  std::string program = "/proc/self/exe";
  std::vector<std::string> args;          // after argv[0], e.g. {"worker", "--config", FILE}
  std::vector<std::string> environment;   // NAME=value, the children's whole environment
  // The shared parent (the data directory's work/): the supervisor makes its own folder in
  // it (ScratchDir) and child slot i works in <that folder>/c<i>.
  std::filesystem::path scratch_root;
  RenderLimits limits;
  double max_audio_seconds = 30 * 60;     // caps the song length a child reports
  int nice = 10;                          // renders yield the CPU to the HTTP threads
  // After an attempt's time is up the child gets this long to stop by itself (it records the
  // reason itself) before it is killed.
  std::chrono::milliseconds kill_grace{5000};
  // SIGTERM to SIGKILL when the supervisor stops.
  std::chrono::milliseconds stop_grace{10000};
};

class Supervisor {
 public:
  // `observer` hears every attempt's outcome, from the children's reports and the
  // supervisor's own (a child that died holding a job). `store` is the children's: a job
  // failed here loses what its attempts left in it.
  Supervisor(SupervisorOptions options, queue::JobQueue& queue, storage::ObjectStore& store,
             JobObserver observer = {});
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  void start();
  // Work was queued: idle children look for it now.
  void wake();
  // The job was deleted: the child rendering it stops.
  void cancel(const std::string& job_id);
  // SIGTERM to every child (each hands its job back), SIGKILL after stop_grace; jobs of
  // children that had to be killed are handed back here.
  void stop();

  int busy() const { return busy_.load(); }
  int running() const { return running_.load(); }
  std::int64_t restarts() const { return restarts_.load(); }

 private:
  struct Child;
  void run();
  // One turn of the loop: messages, exits, deadlines, restarts, cancellations, wake-ups.
  void tend_children();
  void spawn(Child& child);
  void read_messages(Child& child);
  void on_message(Child& child, const struct ChannelMessage& message);
  void reap(Child& child, bool block);
  void on_exit(Child& child, int wait_status);
  void set_cpu_budget(Child& child, std::optional<std::chrono::milliseconds> budget);
  void shut_down_children();
  std::filesystem::path child_scratch(const Child& child) const;

  SupervisorOptions options_;
  queue::JobQueue& queue_;
  storage::ObjectStore& store_;
  JobObserver observer_;
  std::string id_prefix_;
  std::string argv0_;
  RlimitTable rlimits_;
  std::unique_ptr<ScratchDir> scratch_;  // this process's folder, made in start()
  int command_fd_ = -1;  // eventfd: wakes the loop for wake(), cancel() and stop()

  std::vector<Child> children_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> wake_requested_{false};
  std::mutex mutex_;
  std::vector<std::string> cancels_;
  std::atomic<int> busy_{0};
  std::atomic<int> running_{0};
  std::atomic<std::int64_t> restarts_{0};
};

}  // namespace sy::worker
