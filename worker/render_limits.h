#pragma once
// The limits one render runs under, and the sentences a person reads when a render hits one.
// A supervisor applies them to each child process it starts (before exec, where only
// async-signal-safe calls are allowed); a worker run by hand applies them to itself.
#include <sys/resource.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

namespace sy::worker {

// Reasons kept on a failed job: no signal numbers, errno values or paths.
inline constexpr const char* kReasonMemory = "the file needs more memory than allowed";
inline constexpr const char* kReasonTime = "the render took longer than allowed";
inline constexpr const char* kReasonCrash = "the file made the decoder fail";
inline constexpr const char* kReasonFileSize = "the result would be larger than allowed";
inline constexpr const char* kReasonKilled =
    "the render was stopped by the system (most often: out of memory)";
inline constexpr const char* kReasonExited = "the render stopped unexpectedly";

// The exit status of a render process whose memory ran out where no one could catch it (an
// allocation failing in a thread or a noexcept function ends in std::terminate).
inline constexpr int kExitOutOfMemory = 86;
// Makes std::terminate exit with kExitOutOfMemory when the exception is std::bad_alloc.
void exit_distinctly_when_memory_runs_out();

struct RenderLimits {
  std::int64_t memory_mb = 1024;     // address space of a render process (RLIMIT_AS); 0: none
  std::int64_t file_size_mb = 2048;  // largest file it may write (RLIMIT_FSIZE); 0: none
  int open_files = 256;              // RLIMIT_NOFILE; 0: none
  // Wall-clock and CPU time of one attempt: the base, plus this much per second of audio
  // once the song's length is known (capped by the longest song accepted).
  std::chrono::seconds time_base{60};
  double time_per_audio_second = 0.25;

  std::chrono::milliseconds attempt_time(double audio_seconds) const;
};

// The resource limits as setrlimit arguments, computed before fork so that applying them in
// the child needs no allocation.
struct RlimitTable {
  struct Entry {
    int resource = 0;
    rlimit value{};
  };
  std::array<Entry, 4> entries{};
  int size = 0;
};
RlimitTable rlimits_for(const RenderLimits& limits);
// Async-signal-safe. Returns false if a limit could not be set.
bool apply_rlimits(const RlimitTable& table) noexcept;
// For a worker run by hand: the same limits on this process. Throws std::runtime_error.
void apply_to_self(const RenderLimits& limits);

// What a person reads when a render process ended while it held a job. `wait_status` as
// waitpid reports it; `over_time` when the supervisor killed it for its time limit.
std::string reason_for_exit(int wait_status, bool over_time);

}  // namespace sy::worker
