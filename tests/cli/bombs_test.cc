// Resource bombs through the real `surroundyou render`: each is refused with exit status 3
// and a reason (or its oversized cover left out with a warning) within 256 MiB peak RSS and
// 30 s, measured on the child process with wait4().
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <stdexcept>

#include "tests/support/bomb_files.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace sy::testing {
namespace {

const std::string kBinary = SY_BINARY;
constexpr double kMaxPeakMiB = 256;
constexpr double kMaxSeconds = 30;

struct Measured {
  int exit_code = -1;
  std::string err;
  double peak_rss_mib = 0;
  double wall_seconds = 0;
};

double own_peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// The kernel folds a process's high-water RSS from before exec() into what wait4() reports
// for it, and a spawned child starts as a copy of this process: big fixtures are therefore
// built in a forked child that exits, so this process stays small and the figure measured
// for a render is the render's own.
void in_child(const std::function<void()>& build) {
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    try {
      build();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fixture failed: %s\n", e.what());
      _exit(1);
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("building the fixture failed");
}

// Runs argv with stdout to /dev/null and stderr captured; the child's peak RSS comes from
// wait4(), which reports the resources of exactly that child.
Measured run_measured(const std::vector<std::string>& argv) {
  if (own_peak_rss_mib() > kMaxPeakMiB / 4) {
    throw std::logic_error(
        "the test process grew too big for its child's peak RSS to mean anything");
  }
  int err_pipe[2];
  if (pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(err_pipe[1]);
  if (rc != 0) {
    close(err_pipe[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  Measured m;
  char buf[4096];
  for (ssize_t n; (n = read(err_pipe[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    m.err.append(buf, static_cast<std::size_t>(n));
  }
  close(err_pipe[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  m.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
  return m;
}

Measured render(const TempDir& dir, const std::string& input,
                const std::string& output = "out.mp3", const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {kBinary, "render", input, "-o", dir.file(output), "--progress", "none"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Measured m = run_measured(argv);
  std::cout << "[ measured ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
            << ": exit " << m.exit_code << ", peak RSS " << m.peak_rss_mib << " MiB, "
            << m.wall_seconds << " s\n";
  if (memory_bounds_apply()) {
    EXPECT_LT(m.peak_rss_mib, kMaxPeakMiB);
  }
  EXPECT_LT(m.wall_seconds, kMaxSeconds);
  return m;
}

// The bomb written into the folder by a forked child (see in_child).
std::string written(const TempDir& dir, const bomb_files::Bomb& bomb) {
  in_child([&] { bomb.write(dir, bomb.file); });
  return dir.file(bomb.file);
}

std::string test_name(const ::testing::TestParamInfo<bomb_files::Bomb>& info) { return info.param.test; }

class RefusedBomb : public ::testing::TestWithParam<bomb_files::Bomb> {};

// Exit 3, one `error: <reason> (<file>)` line, and nothing left behind.
TEST_P(RefusedBomb, ExitsThreeWithItsReasonAndLeavesNothing) {
  TempDir dir;
  const std::string input = written(dir, GetParam());
  const auto before = dir.entries();
  const Measured m = render(dir, input);
  const std::string& reason = GetParam().says;
  EXPECT_EQ(m.exit_code, 3) << m.err;
  EXPECT_EQ(m.err.rfind("error: ", 0), 0u) << m.err;
  EXPECT_NE(m.err.find(reason), std::string::npos) << "expected '" << reason << "' in: " << m.err;
  EXPECT_NE(m.err.find("(" + input + ")"), std::string::npos) << m.err;
  EXPECT_EQ(dir.entries(), before) << "the refused render left files behind";
}
INSTANTIATE_TEST_SUITE_P(Bombs, RefusedBomb, ::testing::ValuesIn(bomb_files::refused()), test_name);

class CoverBomb : public ::testing::TestWithParam<bomb_files::Bomb> {};

// Exit 0 with a warning naming the cover, an output (of the input's format) that carries no
// picture, and the song's tags kept.
TEST_P(CoverBomb, RendersWithoutTheCoverAndSaysSo) {
  TempDir dir;
  const std::string input = written(dir, GetParam());
  const std::string output = "out" + std::filesystem::path(input).extension().string();
  const Measured m = render(dir, input, output);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.err.find("warning: " + GetParam().says), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("(" + input + ")"), std::string::npos) << m.err;
  const CommandResult pictures =
      run({"ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=index", "-of",
           "csv=p=0", dir.file(output)});
  EXPECT_EQ(pictures.exit_code, 0);
  EXPECT_EQ(pictures.out, "") << "the output carries a picture";
  for (const auto& [tag, value] : GetParam().tags) EXPECT_EQ(ffprobe_tag(dir.file(output), tag), value);
}
INSTANTIATE_TEST_SUITE_P(Bombs, CoverBomb, ::testing::ValuesIn(bomb_files::covers_left_out()), test_name);

TEST(Bombs, CoverClaimingGigapixelsIsNotAllocated) {
  // A 64x64 PNG whose header says 16000x16000: 768 MB once decoded. Before: 796 MiB peak.
  TempDir dir;
  in_child([&] { bomb_files::mp3_with_png_claiming(dir, "pixels.mp3", 16000, 16000); });
  const Measured m = render(dir, dir.file("pixels.mp3"));
  EXPECT_EQ(m.exit_code, 0) << m.err;
}

// The two-hour FLAC that is refused whole: ten seconds of it lie inside the limit and render,
// and an excerpt that ends past the limit is refused up front too.
TEST(Bombs, AnExcerptInsideTheLimitOfALongFileRenders) {
  TempDir dir;
  in_child([&] { bomb_files::long_silent_flac(dir, "long.flac", 7200); });
  const Measured m = render(dir, dir.file("long.flac"), "out.mp3", {"--start", "0:10", "--end", "0:20"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NEAR(static_cast<double>(decoded_samples(dir.file("out.mp3"))) / 48000, 10.0, 0.1);

  const Measured past = render(dir, dir.file("long.flac"), "past.mp3", {"--start", "29:50", "--end", "30:10"});
  EXPECT_EQ(past.exit_code, 3) << past.err;
  EXPECT_NE(past.err.find("the excerpt ends at 30:10, past the 30 min limit"), std::string::npos)
      << past.err;
}

}  // namespace
}  // namespace sy::testing
