#include "worker/render_limits.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

namespace sy::worker {

std::chrono::milliseconds RenderLimits::attempt_time(double audio_seconds) const {
  const double extra = std::max(0.0, audio_seconds) * time_per_audio_second;
  return std::chrono::duration_cast<std::chrono::milliseconds>(time_base) +
         std::chrono::milliseconds(static_cast<std::int64_t>(extra * 1000));
}

RlimitTable rlimits_for(const RenderLimits& limits) {
  RlimitTable t;
  const auto add = [&t](int resource, rlim_t value) {
    t.entries[static_cast<std::size_t>(t.size++)] = {resource, rlimit{value, value}};
  };
  constexpr rlim_t kMiB = 1024 * 1024;
  if (limits.memory_mb > 0) add(RLIMIT_AS, static_cast<rlim_t>(limits.memory_mb) * kMiB);
  if (limits.file_size_mb > 0) add(RLIMIT_FSIZE, static_cast<rlim_t>(limits.file_size_mb) * kMiB);
  if (limits.open_files > 0) add(RLIMIT_NOFILE, static_cast<rlim_t>(limits.open_files));
  add(RLIMIT_CORE, 0);  // a crashing decoder must not leave the song's memory on disk
  return t;
}

bool apply_rlimits(const RlimitTable& table) noexcept {
  bool ok = true;
  for (int i = 0; i < table.size; ++i) {
    const auto& e = table.entries[static_cast<std::size_t>(i)];
    if (::setrlimit(static_cast<__rlimit_resource>(e.resource), &e.value) != 0) ok = false;
  }
  return ok;
}

void apply_to_self(const RenderLimits& limits) {
  if (!apply_rlimits(rlimits_for(limits)))
    throw std::runtime_error(std::string("cannot set the worker's resource limits: ") +
                             std::strerror(errno));
}

void exit_distinctly_when_memory_runs_out() {
  std::set_terminate([] {
    if (const auto e = std::current_exception()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::bad_alloc&) {
        ::_exit(kExitOutOfMemory);
      } catch (...) {
      }
    }
    std::abort();
  });
}

std::string reason_for_exit(int wait_status, bool over_time) {
  if (over_time) return kReasonTime;
  if (WIFEXITED(wait_status))
    return WEXITSTATUS(wait_status) == kExitOutOfMemory ? kReasonMemory : kReasonExited;
  if (!WIFSIGNALED(wait_status)) return kReasonExited;
  switch (WTERMSIG(wait_status)) {
    case SIGXCPU:
      return kReasonTime;
    case SIGXFSZ:
      return kReasonFileSize;
    case SIGKILL:
      return kReasonKilled;
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGABRT:
    case SIGSYS:
    case SIGTRAP:
      return kReasonCrash;
    default:
      return kReasonExited;
  }
}

}  // namespace sy::worker
