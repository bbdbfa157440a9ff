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
constexpr std::size_t kMiB = 1 << 20;

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
  expect_refused(bomb_files::sample_rate(tmp, "rate.wav", 750000017),
                 "the audio's sample rate (750000017 Hz) is outside the 8 kHz to 384 kHz a "
                 "recording can have");
  expect_refused(bomb_files::sample_rate(tmp, "slow.wav", 100), "sample rate (100 Hz)");
  expect_refused(bomb_files::channels(tmp, "wide.wav", 1000),
                 "the audio claims 1000 channels; at most 64 are accepted");
  expect_refused(bomb_files::caf_packet_size(tmp, "packets.caf", 1u << 30),
                 "the audio stream's header is implausible (blocks of 1073741824 bytes)");
  expect_refused(bomb_files::mp3_with_tag_frames(tmp, "many.mp3", 70000),
                 "the file's tags are implausible");
  expect_refused(bomb_files::opus_with_cover(tmp, "huge.opus", 60 * kMiB),
                 "the file needs more memory than allowed");
}

TEST_F(BombServiceTest, OversizedCoversAreLeftOutAndTheSongIsDone) {
  struct Case {
    std::string path, warning;
  };
  const std::vector<Case> cases = {
      {bomb_files::mp3_with_cover(tmp, "cover.mp3", 53000000),
       "the cover art (50.5 MiB) is over the 16 MiB limit"},
      {bomb_files::flac_with_cover(tmp, "huge.flac", 60 * kMiB),
       "the cover art (60.0 MiB) is over the 16 MiB limit"},
      {bomb_files::mp3_with_compressed_frames(tmp, "zip.mp3"),
       "the cover art (40.0 MiB) is over the 16 MiB limit"},
  };
  for (const Case& c : cases) {
    const Outcome o = upload(c.path, {{"format", "mp3"}});
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
    EXPECT_EQ(pictures.out, "") << fs::path(c.path).filename() << ": the result carries a picture";
    EXPECT_GT(sy::testing::decoded_samples(out), 44100 * 2) << "the song itself was rendered";
    // Whoever runs the service learns what was left out of which job.
    const std::string log = read_file(tmp.path() / "server.log");
    const std::string id = o.job["id"];
    bool logged = false;
    for (std::size_t at = log.find(c.warning); at != std::string::npos && !logged;
         at = log.find(c.warning, at + 1)) {
      const std::size_t line_start = log.rfind('\n', at) + 1;
      logged =
          log.substr(line_start, log.find('\n', at) - line_start).find(id) != std::string::npos;
    }
    EXPECT_TRUE(logged) << "no warning '" << c.warning << "' with job " << id
                        << " in the server log";
  }
}

}  // namespace
