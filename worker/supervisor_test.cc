// The supervisor with small shell children standing in for render processes: each speaks the
// channel protocol on descriptor 3 ($4 is its worker id) and then crashes, hangs or exits as
// the test needs. The queue is the real SQLite one, the store the real embedded one. Real
// renders in children are proven by the service tests (tests/service).
#include "worker/supervisor.h"

#include <gtest/gtest.h>

#include "tests/support/local_store.h"
#include "tests/support/temp_dir.h"
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "queue/sqlite/sqlite_queue.h"

namespace sy::worker {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = tmp.path();
    queue = std::make_unique<queue::SqliteJobQueue>(dir / "queue.db");
    store = testing::local_store(dir / "objects");
    options.program = "/bin/sh";
    options.scratch_root = dir / "work";
    options.environment = {"PATH=/usr/bin:/bin", "DIR=" + dir.string()};
    options.kill_grace = 100ms;
    options.stop_grace = 2s;
  }
  void TearDown() override { supervisor.reset(); }

  // Children run `script`; "$4" is the worker id the supervisor gave them.
  void start(const std::string& script, int children = 1) {
    options.children = children;
    options.args = {"-c", script, "sh"};
    supervisor = std::make_unique<Supervisor>(
        options, *queue, *store, [this](const queue::Job& job, std::string_view outcome, double, double) {
          std::lock_guard lock(mutex);
          outcomes.push_back(job.id + ":" + std::string(outcome));
        });
    supervisor->start();
  }

  void add_job(const std::string& id, int max_attempts = 3) {
    queue::NewJob j;
    j.id = id;
    j.token_hash = "x";
    j.filename = "a.mp3";
    j.upload_key = "uploads/" + id + "/a.mp3";
    j.max_attempts = max_attempts;
    queue->create(j);
    queue->enqueue(id);
  }

  static std::string read(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Waits until `file` exists with a complete line and returns it without the newline.
  std::string wait_line(const fs::path& file, std::chrono::milliseconds timeout = 5s) {
    const auto end = Steady::now() + timeout;
    while (Steady::now() < end) {
      const std::string s = read(file);
      if (!s.empty() && s.back() == '\n') return s.substr(0, s.size() - 1);
      std::this_thread::sleep_for(5ms);
    }
    ADD_FAILURE() << "no line in " << file;
    return {};
  }
  std::optional<queue::Job> wait_status(const std::string& id, queue::JobStatus status,
                                        std::chrono::milliseconds timeout) {
    const auto end = Steady::now() + timeout;
    while (Steady::now() < end) {
      if (auto j = queue->get(id); j && j->status == status) return j;
      std::this_thread::sleep_for(5ms);
    }
    return std::nullopt;
  }

  testing::TempDir tmp;  // first, so it goes last
  fs::path dir;
  std::unique_ptr<queue::SqliteJobQueue> queue;
  std::unique_ptr<storage::LocalObjectStore> store;
  SupervisorOptions options;
  std::unique_ptr<Supervisor> supervisor;
  std::mutex mutex;
  std::vector<std::string> outcomes;
};

// The child claims the queued job under the worker id it was given, tells the supervisor,
// and waits for the file `go` before doing `then`.
std::string claim_then(const std::string& then) {
  return R"(echo "$4" > "$DIR/id.$$"; mv "$DIR/id.$$" "$DIR/id"
while [ ! -f "$DIR/go" ]; do sleep 0.01; done; rm -f "$DIR/go"
printf '{"kind":"started","job":"j1"}' >&3
)" + then;
}

TEST_F(SupervisorTest, ChildrenStartUnderTheLimitsWithOnlyTheirChannelOpen) {
  options.limits.memory_mb = 300;
  options.limits.file_size_mb = 5;
  options.limits.open_files = 100;
  options.nice = 7;
  // `exec`: the sleep is the child itself, so killing the child leaves no orphan holding
  // ctest's output pipe open (and the test running) for a minute.
  start(R"(out="$DIR/limits.$$"
{ ulimit -v; ulimit -f; ulimit -n; ulimit -c; cut -d' ' -f19 /proc/$$/stat; echo $$; } > "$out"
mv "$out" "$DIR/limits"; exec sleep 60)");
  std::string text;
  const auto end = Steady::now() + 5s;
  while (Steady::now() < end && (text = read(dir / "limits")).empty()) std::this_thread::sleep_for(5ms);
  std::istringstream in(text);
  std::string as, fsize, nofile, core, nice, pid;
  in >> as >> fsize >> nofile >> core >> nice >> pid;
  EXPECT_EQ(as, std::to_string(300 * 1024)) << "address space in KiB";
  EXPECT_EQ(fsize, std::to_string(5 * 1024 * 2)) << "file size in 512-byte blocks";
  EXPECT_EQ(nofile, "100");
  EXPECT_EQ(core, "0");
  EXPECT_EQ(nice, "7");
  // stdin (/dev/null), stdout, stderr and the channel: nothing else of this process (its
  // queue database, say) reached the child.
  std::vector<std::string> fds;
  for (const auto& e : fs::directory_iterator("/proc/" + pid + "/fd")) fds.push_back(e.path().filename());
  std::sort(fds.begin(), fds.end());
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(fs::read_symlink("/proc/" + pid + "/fd/0"), "/dev/null");
  EXPECT_EQ(supervisor->running(), 1);
}

TEST_F(SupervisorTest, ACrashReturnsTheJobAtOnceWithAReasonAndTheChildIsReplaced) {
  add_job("j1");
  start(claim_then("kill -SEGV $$"));
  const std::string first = wait_line(dir / "id");
  ASSERT_TRUE(queue->claim(first, 60s));  // as the child's worker pool would
  fs::remove(dir / "id");
  std::ofstream(dir / "go").put('\n');
  // Back in the queue well before the 60 s lease would have run out.
  const auto job = wait_status("j1", queue::JobStatus::kQueued, 2s);
  ASSERT_TRUE(job) << "the job did not come back at once";
  EXPECT_EQ(job->error, kReasonCrash);
  EXPECT_EQ(job->attempts, 1);
  EXPECT_TRUE(job->lease_owner.empty());
  // A fresh child (a new worker id) runs within a second.
  const std::string second = wait_line(dir / "id", 1s);
  EXPECT_NE(second, first);
  EXPECT_GE(supervisor->restarts(), 1);
  std::lock_guard lock(mutex);
  EXPECT_EQ(outcomes, std::vector<std::string>{"j1:retry"});
}

TEST_F(SupervisorTest, TheLastAttemptFailsTheJobWithTheReason) {
  add_job("j1", 1);
  start(claim_then("exit 86"));  // what a child whose memory ran out in a thread exits with
  ASSERT_TRUE(queue->claim(wait_line(dir / "id"), 60s));
  std::ofstream(dir / "go").put('\n');
  const auto job = wait_status("j1", queue::JobStatus::kFailed, 2s);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->error, kReasonMemory);
}

// The window between an attempt's move of its result into place and its record of the job
// done: a child killed there leaves a whole result object behind. The job fails (its attempts
// ran out, so it may be tried again) and keeps no result; its upload stays for a rerender.
TEST_F(SupervisorTest, AJobFailedAfterItsResultWasMovedKeepsNoResult) {
  add_job("j1", 1);
  start(claim_then("kill -KILL $$"));
  ASSERT_TRUE(queue->claim(wait_line(dir / "id"), 60s));
  const fs::path bytes = dir / "bytes";
  std::ofstream(bytes) << "a whole rendered song";
  const std::string result = "processed/j1/a (8D).mp3";
  const std::string upload = "uploads/j1/a.mp3";
  store->upload_from_file(result, bytes);  // as the child's move would have left it
  store->upload_from_file("attempts/j1/1-x/a (8D).mp3", bytes);
  store->upload_from_file(upload, bytes);
  std::ofstream(dir / "go").put('\n');
  const auto job = wait_status("j1", queue::JobStatus::kFailed, 2s);
  ASSERT_TRUE(job);
  // The supervisor tells the observer after it cleaned up.
  const auto end = Steady::now() + 2s;
  const auto told = [&] {
    std::lock_guard lock(mutex);
    return !outcomes.empty();
  };
  while (Steady::now() < end && !told()) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(job->failed_permanently) << "the child was killed; the file was not refused";
  EXPECT_FALSE(job->result);
  EXPECT_FALSE(store->stat(result)) << "a failed job's result object was left in the store";
  EXPECT_TRUE(store->list("attempts/j1/").empty());
  EXPECT_TRUE(store->stat(upload)) << "the upload stays for a rerender";
  std::lock_guard lock(mutex);
  EXPECT_EQ(outcomes, std::vector<std::string>{"j1:failed"});
}

TEST_F(SupervisorTest, AnAttemptOverItsTimeIsKilled) {
  add_job("j1", 1);
  options.limits.time_base = 1s;
  options.limits.time_per_audio_second = 0;
  start(claim_then("exec sleep 60"));  // exec: no orphaned sleep outlives the kill
  ASSERT_TRUE(queue->claim(wait_line(dir / "id"), 60s));
  const auto go = Steady::now();
  std::ofstream(dir / "go").put('\n');
  const auto job = wait_status("j1", queue::JobStatus::kFailed, 5s);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->error, kReasonTime);
  EXPECT_GE(Steady::now() - go, 1s);
}

TEST_F(SupervisorTest, AJobEndedNormallyIsLeftAlone) {
  add_job("j1");
  start(claim_then(R"(printf '{"kind":"ended","job":"j1","outcome":"done","wall":1,"rtf":30}' >&3
exit 0)"));
  ASSERT_TRUE(queue->claim(wait_line(dir / "id"), 60s));
  std::ofstream(dir / "go").put('\n');
  std::this_thread::sleep_for(500ms);
  const auto job = queue->get("j1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, queue::JobStatus::kProcessing) << "the child reported it finished";
  std::lock_guard lock(mutex);
  EXPECT_EQ(outcomes, std::vector<std::string>{"j1:done"});
}

TEST_F(SupervisorTest, WakeReachesIdleChildrenQuickly) {
  // Each child appends a line per wake-up message it reads from its channel.
  start(R"(echo "$4" > "$DIR/ready.$4"
while :; do dd bs=1024 count=1 <&3 2>/dev/null | grep -q wake && echo w >> "$DIR/woken.$4"; done)", 2);
  const auto end = Steady::now() + 5s;
  auto ready = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().rfind("ready.", 0) == 0;
    return n;
  };
  while (Steady::now() < end && ready() < 2) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(ready(), 2);
  const auto t0 = Steady::now();
  supervisor->wake();
  auto woken = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().rfind("woken.", 0) == 0;
    return n;
  };
  while (Steady::now() - t0 < 2s && woken() < 2) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(woken(), 2);
  EXPECT_LT(Steady::now() - t0, 500ms);
}

TEST_F(SupervisorTest, StopEndsEveryChildAndHandsBackAJobOfOneThatWouldNotStop) {
  add_job("j1");
  options.stop_grace = 300ms;
  // Ignores SIGTERM, as a render stuck inside a decoder would.
  start(claim_then("trap '' TERM; while :; do sleep 0.05; done"));
  ASSERT_TRUE(queue->claim(wait_line(dir / "id"), 60s));
  std::ofstream(dir / "go").put('\n');
  const auto end = Steady::now() + 2s;
  while (Steady::now() < end && supervisor->busy() == 0) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(supervisor->busy(), 1);
  const auto t0 = Steady::now();
  supervisor->stop();
  EXPECT_LT(Steady::now() - t0, 2s);
  EXPECT_EQ(supervisor->running(), 0);
  const auto job = queue->get("j1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->status, queue::JobStatus::kQueued);
  EXPECT_EQ(job->attempts, 0) << "handed back, not counted";
}

}  // namespace
}  // namespace sy::worker
