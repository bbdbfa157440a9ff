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
#include <functional>
#include <stdexcept>

#include "tests/support/bomb_files.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace sy::testing {
namespace {

const std::string kBinary = SY_BINARY;
constexpr std::size_t kMiB = 1 << 20;
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
                const std::string& output = "out.mp3") {
  Measured m =
      run_measured({kBinary, "render", input, "-o", dir.file(output), "--progress", "none"});
  std::cout << "[ measured ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
            << ": exit " << m.exit_code << ", peak RSS " << m.peak_rss_mib << " MiB, "
            << m.wall_seconds << " s\n";
  if (memory_bounds_apply()) {
    EXPECT_LT(m.peak_rss_mib, kMaxPeakMiB);
  }
  EXPECT_LT(m.wall_seconds, kMaxSeconds);
  return m;
}

// Exit 3, one `error: <reason> (<file>)` line, and nothing left behind.
void expect_refused(const TempDir& dir, const std::string& input, const std::string& reason) {
  const auto before = dir.entries();
  const Measured m = render(dir, input);
  EXPECT_EQ(m.exit_code, 3) << m.err;
  EXPECT_EQ(m.err.rfind("error: ", 0), 0u) << m.err;
  EXPECT_NE(m.err.find(reason), std::string::npos) << "expected '" << reason << "' in: " << m.err;
  EXPECT_NE(m.err.find("(" + input + ")"), std::string::npos) << m.err;
  EXPECT_EQ(dir.entries(), before) << "the refused render left files behind";
}

// Exit 0 with a warning naming the cover, and an output that carries no picture.
void expect_rendered_without_cover(const TempDir& dir, const std::string& input,
                                   const std::string& warning,
                                   const std::string& output = "out.mp3") {
  const Measured m = render(dir, input, output);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.err.find("warning: " + warning), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("(" + input + ")"), std::string::npos) << m.err;
  const CommandResult pictures =
      run({"ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=index", "-of",
           "csv=p=0", dir.file(output)});
  EXPECT_EQ(pictures.exit_code, 0);
  EXPECT_EQ(pictures.out, "") << "the output carries a picture";
}

TEST(Bombs, SampleRateOfAGigahertzIsRefusedBeforeTheResamplerIsBuilt) {
  // Before: the resampler built a ~2 GiB filter and spun ~20 s before failing.
  TempDir dir;
  in_child([&] {
    bomb_files::sample_rate(dir, "rate.wav", 750000017);
    bomb_files::sample_rate(dir, "slow.wav", 100);
  });
  expect_refused(dir, dir.file("rate.wav"),
                 "the audio's sample rate (750000017 Hz) is outside the 8 kHz to 384 kHz");
  expect_refused(dir, dir.file("slow.wav"), "sample rate (100 Hz)");
}

TEST(Bombs, AThousandChannelsAreRefused) {
  TempDir dir;
  in_child([&] { bomb_files::channels(dir, "wide.wav", 1000); });
  expect_refused(dir, dir.file("wide.wav"),
                 "the audio claims 1000 channels; at most 64 are accepted");
}

TEST(Bombs, AGigabytePacketSizeIsRefused) {
  TempDir dir;
  in_child([&] { bomb_files::caf_packet_size(dir, "packets.caf", 1u << 30); });
  expect_refused(dir, dir.file("packets.caf"),
                 "header is implausible (blocks of 1073741824 bytes)");
}

TEST(Bombs, Mp3With53MbCoverRendersWithoutItAndKeepsItsTags) {
  // Before: 298 MiB peak RSS, the picture copied four times on its way to the output.
  TempDir dir;
  in_child([&] { bomb_files::mp3_with_cover(dir, "cover.mp3", 53000000); });
  expect_rendered_without_cover(
      dir, dir.file("cover.mp3"),
      "the cover art (50.5 MiB) is over the 16 MiB limit and was left out");
  EXPECT_EQ(ffprobe_tag(dir.file("out.mp3"), "title"), "Heavy (8D)");
  EXPECT_EQ(ffprobe_tag(dir.file("out.mp3"), "artist"), "Band");
}

TEST(Bombs, M4aWith53MbCoverRendersWithoutIt) {
  TempDir dir;
  in_child([&] { bomb_files::m4a_with_cover(dir, "cover.m4a", 53000000); });
  expect_rendered_without_cover(dir, dir.file("cover.m4a"),
                                "the cover art (50.5 MiB) is over the 16 MiB limit", "out.m4a");
}

TEST(Bombs, FlacWith20MbCoverRendersWithoutIt) {
  TempDir dir;
  in_child([&] { bomb_files::flac_with_cover(dir, "cover.flac", 20 * kMiB); });
  expect_rendered_without_cover(dir, dir.file("cover.flac"),
                                "the cover art (20.0 MiB) is over the 16 MiB limit", "out.flac");
}

TEST(Bombs, FlacWith60MbCoverRendersWithoutReadingIt) {
  // Over 16 MiB a FLAC picture only exists with a truncated block length that FFmpeg reads
  // past; such a block is cut out of what FFmpeg sees. Before: 363 MiB peak RSS.
  TempDir dir;
  in_child([&] { bomb_files::flac_with_cover(dir, "huge.flac", 60 * kMiB); });
  expect_rendered_without_cover(dir, dir.file("huge.flac"),
                                "the cover art (60.0 MiB) is over the 16 MiB limit", "out.flac");
}

TEST(Bombs, OggCoverTooBigToHoldIsRefusedWithAReason) {
  // An Ogg comment packet cannot be skipped without rewriting pages: over what FFmpeg may
  // allocate at once, the file is refused.
  TempDir dir;
  in_child([&] { bomb_files::opus_with_cover(dir, "huge.opus", 60 * kMiB); });
  expect_refused(dir, dir.file("huge.opus"), "the file needs more memory than allowed");
}

TEST(Bombs, OggWith17MbCoverRendersWithoutIt) {
  TempDir dir;
  in_child([&] { bomb_files::opus_with_cover(dir, "cover.opus", 17 * kMiB); });
  expect_rendered_without_cover(dir, dir.file("cover.opus"),
                                "the cover art (17.0 MiB) is over the 16 MiB limit", "out.opus");
}

TEST(Bombs, CompressedId3FramesDoNotInflate) {
  // 20 zlib frames of 40 KB that each declare a 40 MiB picture, and 20 declaring 10 MiB of
  // text: under 1 MB on disk. Before: 1.7 GiB peak RSS.
  TempDir dir;
  in_child([&] { bomb_files::mp3_with_compressed_frames(dir, "zip.mp3"); });
  expect_rendered_without_cover(dir, dir.file("zip.mp3"),
                                "the cover art (40.0 MiB) is over the 16 MiB limit");
  EXPECT_EQ(ffprobe_tag(dir.file("out.mp3"), "title"), "Zip (8D)");
}

TEST(Bombs, SeventyThousandTagFramesAreRefused) {
  // Each text frame goes into a dictionary FFmpeg searches linearly: quadratic time.
  TempDir dir;
  in_child([&] { bomb_files::mp3_with_tag_frames(dir, "many.mp3", 70000); });
  expect_refused(dir, dir.file("many.mp3"), "the file's tags are implausible");
}

TEST(Bombs, CoverClaimingGigapixelsIsNotAllocated) {
  // A 64x64 PNG whose header says 16000x16000: 768 MB once decoded. Before: 796 MiB peak.
  TempDir dir;
  in_child([&] { bomb_files::mp3_with_png_claiming(dir, "pixels.mp3", 16000, 16000); });
  const Measured m = render(dir, dir.file("pixels.mp3"));
  EXPECT_EQ(m.exit_code, 0) << m.err;
}

}  // namespace
}  // namespace sy::testing
