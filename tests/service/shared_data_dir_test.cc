// docs/SCALING.md: `serve`, `serve --workers 0` and `surroundyou worker` processes may share
// one data directory on one machine. Real processes, real renders: two API servers without
// workers and two stateless workers on one folder, the second server started while renders
// run (a second serve used to empty the first one's work/ and fail its jobs).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tests/support/api_client.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;
using sy::testing::read_file;

std::size_t count_in(const fs::path& log, const std::string& needle) {
  const std::string text = read_file(log);
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 0777 : 0xFFFF;
}

class SharedDataDir : public ::testing::Test {
 protected:
  void SetUp() override { data = tmp.path() / "data"; }
  void TearDown() override {
    if (!HasFailure()) return;
    for (const auto& s : servers) std::cerr << "---- server ----\n" << s->log_tail() << "\n";
    for (const auto& w : workers) std::cerr << "---- worker ----\n" << w->log_tail() << "\n";
    // What a tail misses: every line about a job that needed another attempt, and every
    // warning or error, from each process.
    std::vector<fs::path> logs;
    for (const auto& s : servers) logs.push_back(s->log());
    for (const auto& w : workers) logs.push_back(w->log());
    for (const auto& log : logs) {
      std::cerr << "---- " << log.filename().string() << ": retried jobs, warnings, errors ----\n";
      std::ifstream in(log);
      for (std::string line; std::getline(in, line);) {
        bool wanted = line.find("\"level\":\"info\"") == std::string::npos;
        for (const auto& id : retried) wanted = wanted || line.find(id) != std::string::npos;
        if (wanted) std::cerr << line << "\n";
      }
    }
  }

  sy::testing::ServerProcess& start_api_server() {
    sy::testing::ServeOptions o;
    o.binary = SY_SERVE_BINARY;
    o.data_dir = data;
    o.log = tmp.path() / ("server" + std::to_string(servers.size()) + ".log");
    o.workers = 0;
    o.env = {{"SY_CREATE_PER_MINUTE", "0"}};
    servers.push_back(std::make_unique<sy::testing::ServerProcess>(std::move(o)));
    return *servers.back();
  }
  void start_worker() {
    const fs::path log = tmp.path() / ("worker" + std::to_string(workers.size()) + ".log");
    workers.push_back(std::make_unique<sy::testing::ChildProcess>(
        std::vector<std::string>{SY_SERVE_BINARY, "worker", "--jobs", "1"},
        std::map<std::string, std::string>{{"SY_DATA_DIR", data.string()}}, log));
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (count_in(log, "\"msg\":\"worker started\"") == 0 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    ASSERT_EQ(count_in(log, "\"msg\":\"worker started\""), 1u) << workers.back()->log_tail();
  }
  std::vector<std::string> scratch_folders() const {
    std::vector<std::string> names;
    if (fs::exists(data / "work"))
      for (const auto& e : fs::directory_iterator(data / "work")) names.push_back(e.path().filename());
    return names;
  }

  sy::testing::TempDir tmp;
  fs::path data;
  std::vector<std::unique_ptr<sy::testing::ServerProcess>> servers;
  std::vector<std::unique_ptr<sy::testing::ChildProcess>> workers;
  std::vector<std::string> retried;  // ids of jobs that took more than one attempt
};

TEST_F(SharedDataDir, TwoApiServersAndTwoWorkersOnOneFolderFinishEveryJob) {
  const std::string song = tmp.file("song.mp3");
  ASSERT_EQ(sy::testing::shell("ffmpeg -loglevel error -y -ss 20 -t 3 -i " SY_MUSIC_DIR
                               "/hr3-caves.ogg -ac 2 -c:a libmp3lame -b:a 128k " +
                               sy::testing::quote(song)),
            0);
  const std::string bytes = read_file(song);
  constexpr int kJobs = 20;

  sy::testing::ApiClient first(start_api_server().url(""));
  start_worker();
  start_worker();
  std::vector<sy::testing::CreatedJob> jobs;
  auto submit = [&](const sy::testing::ApiClient& api, int i) {
    auto job = api.create("song " + std::to_string(i) + ".mp3", static_cast<std::int64_t>(bytes.size()));
    const auto put = api.upload(job, bytes);
    EXPECT_EQ(put.status, 200) << put.body;
    jobs.push_back(job);
  };
  for (int i = 0; i < kJobs / 2; ++i) submit(first, i);
  // The first renders are under way when the second server starts on the same folder.
  first.wait_for(jobs.front(), [](const json& j) { return j.value("status", "") != "queued"; }, 60s);
  sy::testing::ApiClient second(start_api_server().url(""));
  for (int i = kJobs / 2; i < kJobs; ++i) submit(second, i);

  int done = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    // Either server answers for any job: they share the queue.
    const auto& api = i % 2 ? first : second;
    const json j = api.wait_final(jobs[i], 300s);
    EXPECT_EQ(j.value("status", ""), "done") << "job " << i << ": " << j.dump();
    done += j.value("status", "") == "done";
    EXPECT_EQ(j.value("attempts", 0), 1) << "job " << i << " was not interrupted: " << j.dump();
    if (j.value("attempts", 0) != 1) retried.push_back(jobs[i].id);
  }
  EXPECT_EQ(done, kJobs);
  for (const auto& w : workers)
    EXPECT_EQ(count_in(w->log(), "\"msg\":\"job done\""), count_in(w->log(), "\"msg\":\"job started\""));

  // Each worker kept its own scratch folder; none was taken from under it.
  auto folders = scratch_folders();
  EXPECT_EQ(folders.size(), 2u);
  for (const auto& f : folders) EXPECT_EQ(f.rfind("sy-worker-", 0), 0u) << f;
  // Only the service's user reads what the jobs left.
  EXPECT_EQ(mode_of(data), 0700u);
  EXPECT_EQ(mode_of(data / "queue.db"), 0600u);
  std::size_t results = 0;
  for (const auto& e : fs::recursive_directory_iterator(data / "objects" / "processed")) {
    if (!e.is_regular_file()) continue;
    ++results;
    EXPECT_EQ(mode_of(e.path()), 0600u) << e.path();
  }
  EXPECT_EQ(results, static_cast<std::size_t>(kJobs));

  for (auto& w : workers) EXPECT_EQ(w->stop(SIGTERM), 0);
  EXPECT_TRUE(scratch_folders().empty()) << "a worker that stops takes its folder with it";
}

// A worker killed outright leaves its folder; the next process on the folder removes it, and
// only it: a live worker's folder stays.
TEST_F(SharedDataDir, OnlyTheScratchOfAProcessThatIsGoneIsRemoved) {
  start_worker();
  start_worker();
  auto folders = scratch_folders();
  ASSERT_EQ(folders.size(), 2u);
  const pid_t killed = workers[0]->pid();
  workers[0]->stop(SIGKILL);
  ASSERT_NE(killed, -1);
  EXPECT_EQ(scratch_folders().size(), 2u) << "nothing cleans up after SIGKILL";
  start_api_server();
  const auto left = scratch_folders();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(workers[1]->stop(SIGTERM), 0);
  EXPECT_TRUE(scratch_folders().empty());
}

}  // namespace
