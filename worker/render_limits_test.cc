#include "worker/render_limits.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "base/sanitizers.h"

namespace sy::worker {
namespace {

using namespace std::chrono_literals;

std::vector<char>* kept = nullptr;  // where an allocation goes, so it cannot be optimised away

TEST(RenderLimits, AttemptTimeGrowsWithTheSongsLength) {
  RenderLimits l;
  l.time_base = 60s;
  l.time_per_audio_second = 0.25;
  EXPECT_EQ(l.attempt_time(0), 60s);
  EXPECT_EQ(l.attempt_time(300), 135s);  // a five-minute song
  EXPECT_EQ(l.attempt_time(-5), 60s);
}

TEST(RenderLimits, ReasonsArePlainSentences) {
  const auto signalled = [](int sig) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::signal(sig, SIG_DFL);
      ::raise(sig);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  };
  const auto exited = [](int code) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(code);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  };
  rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  EXPECT_EQ(reason_for_exit(signalled(SIGSEGV), false), kReasonCrash);
  EXPECT_EQ(reason_for_exit(signalled(SIGABRT), false), kReasonCrash);
  EXPECT_EQ(reason_for_exit(signalled(SIGXCPU), false), kReasonTime);
  EXPECT_EQ(reason_for_exit(signalled(SIGXFSZ), false), kReasonFileSize);
  EXPECT_EQ(reason_for_exit(signalled(SIGKILL), false), kReasonKilled);
  EXPECT_EQ(reason_for_exit(signalled(SIGKILL), true), kReasonTime);
  EXPECT_EQ(reason_for_exit(exited(kExitOutOfMemory), false), kReasonMemory);
  EXPECT_EQ(reason_for_exit(exited(1), false), kReasonExited);
  for (const char* r : {kReasonMemory, kReasonTime, kReasonCrash, kReasonFileSize, kReasonKilled,
                        kReasonExited}) {
    const std::string s = r;
    EXPECT_EQ(s.find("signal"), std::string::npos) << s;
    EXPECT_EQ(s.find('/'), std::string::npos) << s;
  }
}

TEST(RenderLimits, AnAllocationOverTheLimitFailsAndAnUncaughtOneExitsDistinctly) {
  if (base::kAddressSanitizer)
    GTEST_SKIP() << "ASan's allocator dies instead of failing an allocation under RLIMIT_AS; "
                    "the release tree runs it";
  const pid_t pid = ::fork();
  if (pid == 0) {
    RenderLimits l;
    l.memory_mb = 256;
    apply_to_self(l);
    exit_distinctly_when_memory_runs_out();
    try {
      kept = new std::vector<char>(512u << 20);  // over the limit: throws, costs nothing
    } catch (const std::bad_alloc&) {
    }
    if (kept) ::_exit(1);
    // Escaping a noexcept function ends in std::terminate, as in a render thread.
    [] () noexcept { kept = new std::vector<char>(512u << 20); }();
    ::_exit(2);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), kExitOutOfMemory);
}

}  // namespace
}  // namespace sy::worker
