#pragma once
// Test helpers: run a real command to its end, or keep one running in the background.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sy::testing {

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv (no shell) and captures its output. stdin is /dev/null.
CommandResult run(const std::vector<std::string>& argv);
// Runs a shell command line; returns its exit status. For fixture generation.
int shell(const std::string& command_line);
std::string quote(const std::string& s);

// A process that runs beside the test (a server, a worker), its output appended to `log`.
// Destroyed while still running, it is killed (SIGKILL) and reaped: nothing outlives a test.
class ChildProcess {
 public:
  // argv[0] is a path; `env` is added to this process's environment.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               std::filesystem::path log);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }  // -1 once it has exited
  // Sends `sig` and waits for the exit: the exit code, 128+signal, or -1 (still running after
  // `timeout`, or already stopped).
  int stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(30));
  // The last `max_bytes` of the log, for failure messages.
  std::string log_tail(std::size_t max_bytes = 4000) const;
  const std::filesystem::path& log() const { return log_; }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

// ffprobe's view of a file: sample count of the first audio stream after decoding.
long long decoded_samples(const std::string& path);
std::string ffprobe_tag(const std::string& path, const std::string& tag);

// The live (not zombie) processes whose parent is `pid`: serve's render children.
std::vector<pid_t> children_of(pid_t pid);
// A memory figure of /proc/<pid>/status ("VmRSS", "VmHWM") in MiB; -1 when the process is gone.
double proc_status_mib(pid_t pid, const std::string& field);
// Sets the process's peak resident memory (VmHWM) back to what it holds now, so that the
// next reading is the peak of what it did since; false when the kernel refused.
bool reset_peak_memory(pid_t pid);

// Whether a memory bound (peak RSS, growth) means anything in this build tree: not under
// AddressSanitizer, whose shadow memory and quarantine of freed blocks inflate both. Answered
// where the tree's sanitizer flags apply, so a test binary built without them that measures
// the tree's programs (a server, the CLI) asks the same question of them.
bool memory_bounds_apply();

}  // namespace sy::testing
