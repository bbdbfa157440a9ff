// Resource bombs uploaded to a real `surroundyou serve` (issue 10 item 2): each job is refused
// on its first attempt with the sentence the CLI prints, or has its oversized cover left out
// and is done, while the render process that handled it stays within 256 MiB peak RSS and
// the job within 30 s. The render process is serve's child, not the test's, so its peak is
// the kernel's VmHWM (the figure wait4() reports as ru_maxrss), set back before each upload.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/api_client.h"
#include "tests/support/bomb_files.h"
#include "tests/support/process.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
namespace bomb_files = sy::testing::bomb_files;
using json = nlohmann::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using sy::testing::read_file;

constexpr double kMaxPeakMiB = 256;
constexpr double kMaxSeconds = 30;

struct Outcome {
  json job;
  double peak_mib = 0;
  double seconds = 0;
};

class BombServiceTest : public ::testing::Test {
 protected:
  // One render process, so that its peak is the peak of the one job it just handled.
  void SetUp() override {
    sy::testing::ServeOptions o;
    o.binary = SY_SERVE_BINARY;
    o.data_dir = tmp.path() / "data";
    o.log = tmp.path() / "server.log";
    o.workers = 1;
    o.env = {{"SY_CREATE_PER_MINUTE", "0"}};
    server = std::make_unique<sy::testing::ServerProcess>(std::move(o));
    const auto end = Steady::now() + 30s;
    while (Steady::now() < end &&
           read_file(tmp.path() / "server.log").find("\"worker started\"") == std::string::npos)
      std::this_thread::sleep_for(20ms);
    const auto children = sy::testing::children_of(server->pid());
    ASSERT_EQ(children.size(), 1u) << server->log_tail();
    child = children[0];
  }
  void TearDown() override {
    if (HasFailure() && server) std::cerr << "---- server log ----\n" << server->log_tail() << "\n";
  }

  sy::testing::ApiClient api() const { return sy::testing::ApiClient(server->url("")); }

  // Uploads the file and follows its job to the end, measuring the render process.
  Outcome upload(const std::string& path, const json& settings = json::object()) {
    const std::string bytes = read_file(path);
    const auto job = api().create(fs::path(path).filename().string(),
                                  static_cast<std::int64_t>(bytes.size()), settings);
    EXPECT_TRUE(sy::testing::reset_peak_memory(child))
        << "Linux /proc/<pid>/clear_refs resets the peak";
    const auto started = Steady::now();
    const auto put = api().upload(job, bytes);
    EXPECT_EQ(put.status, 200) << put.body;
    Outcome o;
    o.job = api().wait_final(job, 120s);
    o.seconds = std::chrono::duration<double>(Steady::now() - started).count();
    o.peak_mib = sy::testing::proc_status_mib(child, "VmHWM");
    std::cout << "[ measured ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
              << " " << fs::path(path).filename().string() << ": " << o.job.value("status", "?")
              << ", render process peak " << o.peak_mib << " MiB, " << o.seconds << " s\n";
    EXPECT_GT(o.peak_mib, 0) << "the render process is gone: the bomb cost it its life";
    if (sy::testing::memory_bounds_apply()) {
      EXPECT_LT(o.peak_mib, kMaxPeakMiB);
    }
    EXPECT_LT(o.seconds, kMaxSeconds);
    EXPECT_EQ(sy::testing::children_of(server->pid()), std::vector<pid_t>{child})
        << "the render process was replaced";
    return o;
  }

  // Failed on the first attempt (bad input is not retried) with `reason`, and the sentence is
  // for people: no path, signal or errno.
  void expect_refused(const std::string& path, const std::string& reason) {
    const Outcome o = upload(path);
    ASSERT_EQ(o.job["status"], "failed") << o.job.dump();
    EXPECT_EQ(o.job["attempts"], 1) << o.job.dump();
    EXPECT_EQ(o.job["retryable"], false) << o.job.dump();
    const std::string error = o.job.value("error", "");
    EXPECT_NE(error.find(reason), std::string::npos) << "expected '" << reason << "' in: " << error;
    for (const char* raw : {"/", "SIG", "signal", "errno", "bad_alloc", "Cannot allocate", "exit"})
      EXPECT_EQ(error.find(raw), std::string::npos) << error;
  }

  sy::testing::TempDir tmp;
  std::unique_ptr<sy::testing::ServerProcess> server;
  pid_t child = 0;
};

TEST_F(BombServiceTest, HeaderBombsFailAtOnceWithTheirReason) {
  for (const bomb_files::Bomb& bomb : bomb_files::refused()) {
    SCOPED_TRACE(bomb.test);
    expect_refused(bomb.write(tmp, bomb.file), bomb.says);
  }
}

// The two-hour FLAC refused whole: a preview inside the duration limit is rendered from it.
TEST_F(BombServiceTest, APreviewInsideTheLimitOfALongFileIsDone) {
  const std::string path = bomb_files::long_silent_flac(tmp, "long.flac", 7200);
  const Outcome o = upload(path, {{"format", "mp3"}, {"preview", {{"seconds", 10}, {"start", 10}}}});
  ASSERT_EQ(o.job["status"], "done") << o.job.dump();
  const auto result = sy::testing::http_request("GET", o.job["result"]["url"]);
  ASSERT_EQ(result.status, 200);
  const std::string out = tmp.file("preview.mp3");
  std::ofstream(out, std::ios::binary) << result.body;
  EXPECT_NEAR(static_cast<double>(sy::testing::decoded_samples(out)) / 48000, 10.0, 0.1);
}

TEST_F(BombServiceTest, OversizedCoversAreLeftOutAndTheSongIsDone) {
  for (const bomb_files::Bomb& bomb : bomb_files::covers_left_out()) {
    SCOPED_TRACE(bomb.test);
    const Outcome o = upload(bomb.write(tmp, bomb.file), {{"format", "mp3"}});
    ASSERT_EQ(o.job["status"], "done") << o.job.dump();
    EXPECT_EQ(o.job["attempts"], 1);
    const auto result = sy::testing::http_request("GET", o.job["result"]["url"]);
    ASSERT_EQ(result.status, 200);
    const std::string out = tmp.file("result.mp3");
    std::ofstream(out, std::ios::binary) << result.body;
    const auto pictures =
        sy::testing::run({"ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                          "stream=index", "-of", "csv=p=0", out});
    EXPECT_EQ(pictures.exit_code, 0);
    EXPECT_EQ(pictures.out, "") << "the result carries a picture";
    EXPECT_GT(sy::testing::decoded_samples(out), 44100 * 2) << "the song itself was rendered";
    for (const auto& [tag, value] : bomb.tags) EXPECT_EQ(sy::testing::ffprobe_tag(out, tag), value);
    // Whoever runs the service learns what was left out of which job.
    const std::string log = read_file(tmp.path() / "server.log");
    const std::string id = o.job["id"];
    bool logged = false;
    for (std::size_t at = log.find(bomb.says); at != std::string::npos && !logged;
         at = log.find(bomb.says, at + 1)) {
      const std::size_t line_start = log.rfind('\n', at) + 1;
      logged =
          log.substr(line_start, log.find('\n', at) - line_start).find(id) != std::string::npos;
    }
    EXPECT_TRUE(logged) << "no warning '" << bomb.says << "' with job " << id
                        << " in the server log";
  }
}

}  // namespace
