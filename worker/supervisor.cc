#include "worker/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include "base/log.h"
#include "worker/failed_job.h"
#include "worker/supervisor_channel.h"
#include "worker/worker_names.h"

namespace sy::worker {
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kChildChannelFd = 3;
// Exit status of a child whose supervisor was already gone before it could check.
constexpr int kExitOrphan = 125;
constexpr int kExitExecFailed = 127;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + ::sigabbrev_np(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// CPU seconds the process has used so far, or -1 when it cannot be read.
double cpu_seconds(pid_t pid) {
  clockid_t clock;
  timespec ts{};
  if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &ts) != 0) return -1;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

struct Supervisor::Child {
  int slot = 0;
  std::uint64_t generation = 0;
  pid_t pid = -1;
  int pidfd = -1;
  int channel = -1;
  std::string worker_id;  // the lease owner its pool uses, assigned here
  Steady::time_point started_at{};
  // The job it renders, as it reported it.
  std::optional<std::string> job_id;
  Steady::time_point job_started{};
  double cpu_at_job_start = 0;
  bool length_known = false;
  std::optional<Steady::time_point> kill_at;  // the attempt's deadline plus grace
  bool killed_for_time = false;
  // Restarts while it keeps dying before taking any work.
  int failed_starts = 0;
  std::optional<Steady::time_point> restart_at;
};

Supervisor::Supervisor(SupervisorOptions options, queue::JobQueue& queue,
                       storage::ObjectStore& store, JobObserver observer)
    : options_(std::move(options)), queue_(queue), store_(store), observer_(std::move(observer)) {
  id_prefix_ = process_worker_prefix();
  rlimits_ = rlimits_for(options_.limits);
  // What `ps` shows: the binary's name rather than /proc/self/exe.
  std::error_code ec;
  const auto resolved = fs::read_symlink(options_.program, ec);
  argv0_ = !ec && options_.program == "/proc/self/exe" ? resolved.string() : options_.program;
  if (options_.children < 1) options_.children = 1;
  command_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (command_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  children_.resize(static_cast<std::size_t>(options_.children));
  for (int i = 0; i < options_.children; ++i) children_[static_cast<std::size_t>(i)].slot = i;
}

Supervisor::~Supervisor() {
  stop();
  ::close(command_fd_);
}

void Supervisor::start() {
  stopping_ = false;
  // Folders of processes that died without cleaning up; those of live ones stay.
  remove_abandoned_scratch(options_.scratch_root, kScratchPrefix);
  scratch_ = std::make_unique<ScratchDir>(options_.scratch_root, std::string(kScratchPrefix) + "serve-");
  // Children are forked from this thread only: PR_SET_PDEATHSIG fires when the *thread*
  // that forked a child ends, and this one lives exactly as long as the children may.
  thread_ = std::thread([this] { run(); });
}

void Supervisor::wake() {
  wake_requested_ = true;
  const std::uint64_t one = 1;
  (void)::write(command_fd_, &one, sizeof one);
}

void Supervisor::cancel(const std::string& job_id) {
  {
    std::lock_guard lock(mutex_);
    cancels_.push_back(job_id);
  }
  const std::uint64_t one = 1;
  (void)::write(command_fd_, &one, sizeof one);
}

void Supervisor::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  const std::uint64_t one = 1;
  (void)::write(command_fd_, &one, sizeof one);
  thread_.join();
}

void Supervisor::spawn(Child& c) {
  c.generation++;
  c.worker_id = id_prefix_ + "-c" + std::to_string(c.slot) + "." + std::to_string(c.generation);
  const fs::path scratch = child_scratch(c);
  std::error_code ec;
  fs::remove_all(scratch, ec);  // whatever the previous child of this slot left half-written

  // Everything the child needs is built now: between fork and exec only async-signal-safe
  // calls are allowed (this process has other threads, whose locks the child inherits held).
  std::vector<std::string> args{argv0_};
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  for (const char* a : {"--supervisor-fd", "3", "--worker-id"}) args.emplace_back(a);
  args.push_back(c.worker_id);
  args.emplace_back("--scratch-dir");
  args.push_back(scratch.string());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = options_.environment;
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  ChannelPair channel;
  try {
    channel = make_channel_pair();
  } catch (const std::exception& e) {  // out of descriptors: try again in a second
    base::log::error("cannot start a render process", {{"error", e.what()}});
    c.restart_at = Steady::now() + 1s;
    return;
  }
  const char* program = options_.program.c_str();
  const pid_t parent = ::getpid();
  const int nice = options_.nice;
  const RlimitTable& rlimits = rlimits_;
  sigset_t no_signals;
  sigemptyset(&no_signals);

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(kExitOrphan);  // the supervisor died before prctl
    ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);  // the server blocks SIGTERM for sigwait
    // Its own process group: Ctrl-C at a terminal reaches the server, which stops its
    // children in order, instead of every child at once (they would be restarted meanwhile).
    ::setpgid(0, 0);
    if (channel.child_end == kChildChannelFd) {
      ::fcntl(kChildChannelFd, F_SETFD, 0);
    } else if (::dup2(channel.child_end, kChildChannelFd) < 0) {
      ::_exit(kExitExecFailed);
    }
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0 && null_fd != 0) ::dup2(null_fd, 0);
    // Nothing else of the server's reaches the render: not the listening socket, not the
    // database handles, not the store's files.
    if (::close_range(kChildChannelFd + 1, ~0U, 0) != 0) {
      for (int fd = kChildChannelFd + 1; fd < 65536; ++fd) ::close(fd);  // kernels before 5.9
    }
    if (nice != 0) ::setpriority(PRIO_PROCESS, 0, nice);
    if (!apply_rlimits(rlimits)) ::_exit(kExitExecFailed);
    ::execve(program, argv.data(), envp.data());
    ::_exit(kExitExecFailed);
  }
  ::close(channel.child_end);
  if (pid < 0) {
    ::close(channel.supervisor_end);
    base::log::error("cannot start a render process", {{"error", std::strerror(errno)}});
    c.restart_at = Steady::now() + 1s;
    return;
  }
  c.pid = pid;
  c.channel = channel.supervisor_end;
  // glibc 2.36's <sys/pidfd.h> lacks C++ linkage guards, so the system call is made directly.
  // -1 on kernels before 5.3: the loop then looks for exits every 100 ms.
  c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  c.started_at = Steady::now();
  c.restart_at.reset();
  c.job_id.reset();
  c.kill_at.reset();
  c.killed_for_time = false;
  ++running_;
  base::log::info("render process started",
                  {{"pid", pid}, {"worker", c.worker_id}, {"slot", c.slot}});
}

void Supervisor::set_cpu_budget(Child& c, std::optional<std::chrono::milliseconds> budget) {
  // Only the soft limit moves: the hard limit stays unlimited because an unprivileged
  // process can never raise it again. The wall-clock deadline is the limit a child cannot
  // escape; this one makes the kernel end a runaway attempt even between the loop's checks.
  rlimit lim{RLIM_INFINITY, RLIM_INFINITY};
  if (budget) {
    const double seconds = c.cpu_at_job_start + std::chrono::duration<double>(*budget).count();
    lim.rlim_cur = static_cast<rlim_t>(seconds) + 1;
  }
  if (::prlimit(c.pid, RLIMIT_CPU, &lim, nullptr) != 0 && errno != ESRCH)
    base::log::warn("cannot set a render's CPU limit", {{"pid", c.pid}, {"error", std::strerror(errno)}});
}

void Supervisor::on_message(Child& c, const ChannelMessage& m) {
  const auto now = Steady::now();
  switch (m.kind) {
    case ChannelMessage::Kind::kStarted: {
      if (!c.job_id) ++busy_;
      c.job_id = m.job_id;
      c.job_started = now;
      c.length_known = false;
      c.failed_starts = 0;
      c.cpu_at_job_start = std::max(0.0, cpu_seconds(c.pid));
      const auto limit = options_.limits.attempt_time(0);
      c.kill_at = now + limit + options_.kill_grace;
      set_cpu_budget(c, limit);
      break;
    }
    case ChannelMessage::Kind::kLength: {
      // Once per attempt: a child cannot keep moving its own deadline.
      if (c.job_id != m.job_id || c.length_known) break;
      c.length_known = true;
      const double seconds = std::clamp(m.seconds, 0.0, options_.max_audio_seconds);
      const auto limit = options_.limits.attempt_time(seconds);
      c.kill_at = c.job_started + limit + options_.kill_grace;
      set_cpu_budget(c, limit);
      break;
    }
    case ChannelMessage::Kind::kEnded: {
      if (c.job_id != m.job_id) break;
      c.job_id.reset();
      c.kill_at.reset();
      --busy_;
      set_cpu_budget(c, std::nullopt);
      if (observer_) {
        queue::Job job;
        job.id = m.job_id;
        observer_(job, m.outcome, m.wall_seconds, m.realtime_factor);
      }
      break;
    }
    default:
      break;
  }
}

void Supervisor::read_messages(Child& c) {
  if (c.channel < 0) return;
  char buf[kMaxChannelMessage + 1];
  for (;;) {
    const ssize_t n = ::recv(c.channel, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        ::close(c.channel);  // the child closed its end; its exit follows
        c.channel = -1;
      }
      return;
    }
    if (const auto m = decode(std::string_view(buf, static_cast<std::size_t>(n)))) on_message(c, *m);
  }
}

void Supervisor::reap(Child& c, bool block) {
  if (c.pid <= 0) return;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(c.pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == c.pid) on_exit(c, status);
}

void Supervisor::on_exit(Child& c, int status) {
  read_messages(c);  // an "ended" sent just before it exited still counts
  if (c.channel >= 0) ::close(c.channel);
  if (c.pidfd >= 0) ::close(c.pidfd);
  c.channel = c.pidfd = -1;
  const pid_t pid = c.pid;
  c.pid = -1;
  --running_;
  const auto now = Steady::now();
  if (c.job_id) {
    --busy_;
    const std::string job_id = *c.job_id;
    c.job_id.reset();
    const std::string reason = reason_for_exit(status, c.killed_for_time);
    std::string outcome = "abandoned";
    try {
      if (stopping_) {
        // Killed after the stop grace: the attempt was not the file's fault.
        if (queue_.release(job_id, c.worker_id)) outcome = "released";
      } else if (const auto s = queue_.fail(job_id, c.worker_id, reason, false)) {
        outcome = *s == queue::JobStatus::kFailed ? "failed" : "retry";
        // The child may have died after moving its result into place and before recording
        // the job done. That file may well be whole, but only the child knew its report and
        // whether the move finished: the attempt counts as failed, and a failed job keeps no
        // result. A job going back to the queue keeps it until the next attempt's move
        // replaces it; the view hands out a result only for a done job.
        if (outcome == "failed") remove_results_of_failed_job(store_, job_id);
      }
    } catch (const std::exception& e) {
      base::log::error("cannot record a render's end; its lease will run out",
                       {{"job_id", job_id}, {"error", e.what()}});
    }
    if (stopping_) {
      base::log::warn("render process killed at shutdown", {{"job_id", job_id}, {"pid", pid}, {"outcome", outcome}});
    } else {
      base::log::error("render process died holding a job",
                       {{"job_id", job_id}, {"pid", pid}, {"worker", c.worker_id},
                        {"exit", describe_status(status)}, {"reason", reason}, {"outcome", outcome}});
    }
    if (observer_) {
      queue::Job job;
      job.id = job_id;
      const double wall = std::chrono::duration<double>(now - c.job_started).count();
      observer_(job, outcome, wall, 0);
    }
    if (outcome == "retry") wake_requested_ = true;  // another child may take it now
    c.failed_starts = 0;
  } else if (!stopping_) {
    base::log::warn("render process exited", {{"pid", pid}, {"worker", c.worker_id},
                                              {"exit", describe_status(status)}});
    // Dying again and again before taking any work (a bad setting, a missing file) is not
    // cured by restarting faster: wait 1, 2, 4 ... 30 s, as OTP's restart intensity would.
    if (now - c.started_at < 5s) ++c.failed_starts;
    else c.failed_starts = 0;
  }
  c.kill_at.reset();
  c.killed_for_time = false;
  if (stopping_) return;
  ++restarts_;
  const auto pause = c.failed_starts < 3
                         ? 0ms
                         : std::min<std::chrono::milliseconds>(
                               30s, std::chrono::milliseconds(1000LL << std::min(c.failed_starts - 3, 5)));
  c.restart_at = now + pause;
}

void Supervisor::run() {
  for (auto& c : children_) spawn(c);
  std::vector<pollfd> fds;
  while (!stopping_) {
    const auto now = Steady::now();
    auto next = now + 1s;
    bool need_polling = false;
    fds.clear();
    fds.push_back({command_fd_, POLLIN, 0});
    for (auto& c : children_) {
      if (c.channel >= 0) fds.push_back({c.channel, POLLIN, 0});
      if (c.pidfd >= 0) fds.push_back({c.pidfd, POLLIN, 0});
      else if (c.pid > 0) need_polling = true;
      if (c.kill_at) next = std::min(next, *c.kill_at);
      if (c.restart_at) next = std::min(next, *c.restart_at);
    }
    if (need_polling) next = std::min(next, now + 100ms);
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(0, wait)));

    std::uint64_t count;
    while (::read(command_fd_, &count, sizeof count) > 0) {
    }
    if (stopping_) break;
    try {
      tend_children();
    } catch (const std::exception& e) {
      // The loop is what keeps renders running: log and go on (the queue was unreachable,
      // memory ran short); the next turn tries again.
      base::log::error("supervisor loop", {{"error", e.what()}});
    }
  }
  shut_down_children();
}

void Supervisor::tend_children() {
  for (auto& c : children_) {
    read_messages(c);
    reap(c, false);
  }
  const auto after = Steady::now();
  for (auto& c : children_) {
    if (c.pid > 0 && c.kill_at && after >= *c.kill_at && !c.killed_for_time) {
      base::log::warn("render over its time limit, killing it",
                      {{"job_id", c.job_id.value_or("")}, {"pid", c.pid}});
      c.killed_for_time = true;
      ::kill(c.pid, SIGKILL);
    }
    if (c.pid <= 0 && c.restart_at && after >= *c.restart_at) spawn(c);
  }
  std::vector<std::string> cancels;
  {
    std::lock_guard lock(mutex_);
    cancels.swap(cancels_);
  }
  for (const auto& id : cancels) {
    for (auto& c : children_) {
      if (c.channel >= 0 && c.job_id == id) {
        ChannelMessage m;
        m.kind = ChannelMessage::Kind::kCancel;
        m.job_id = id;
        send_message(c.channel, m);
      }
    }
  }
  if (wake_requested_.exchange(false)) {
    for (auto& c : children_)
      if (c.channel >= 0 && !c.job_id) send_message(c.channel, ChannelMessage{});
  }
}

void Supervisor::shut_down_children() {
  for (auto& c : children_)
    if (c.pid > 0) ::kill(c.pid, SIGTERM);  // each hands its running job back and exits
  const auto deadline = Steady::now() + options_.stop_grace;
  for (;;) {
    bool alive = false;
    for (auto& c : children_) {
      read_messages(c);
      reap(c, false);
      alive = alive || c.pid > 0;
    }
    if (!alive || Steady::now() >= deadline) break;
    std::this_thread::sleep_for(10ms);
  }
  for (auto& c : children_) {
    if (c.pid <= 0) continue;
    base::log::warn("render process did not stop in time, killing it", {{"pid", c.pid}});
    ::kill(c.pid, SIGKILL);
    reap(c, true);
  }
  scratch_.reset();  // the children's folders with it
}

fs::path Supervisor::child_scratch(const Child& c) const {
  return scratch_->path() / ("c" + std::to_string(c.slot));
}

}  // namespace sy::worker
