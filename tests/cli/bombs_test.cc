// Resource bombs through the real `surroundyou render`: each is refused with exit status 3
// and a reason (or its oversized cover left out with a warning) within 256 MiB peak RSS and
// 30 s, measured on the child process with wait4().
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>

#include <gtest/gtest.h>

#include "io/test_bombs.h"
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
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("building the fixture failed");
}

// Runs argv with stdout to /dev/null and stderr captured; the child's peak RSS comes from
// wait4(), which reports the resources of exactly that child.
Measured run_measured(const std::vector<std::string>& argv) {
  if (own_peak_rss_mib() > kMaxPeakMiB / 4) {
    throw std::logic_error("the test process grew too big for its child's peak RSS to mean anything");
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
  m.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  m.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
  return m;
}

Measured render(const TempDir& dir, const std::string& input, const std::string& output = "out.mp3") {
  Measured m = run_measured({kBinary, "render", input, "-o", dir.file(output), "--progress", "none"});
  std::cout << "[ measured ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
            << ": exit " << m.exit_code << ", peak RSS " << m.peak_rss_mib << " MiB, " << m.wall_seconds
            << " s\n";
  EXPECT_LT(m.peak_rss_mib, kMaxPeakMiB);
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
void expect_rendered_without_cover(const TempDir& dir, const std::string& input, const std::string& warning,
                                   const std::string& output = "out.mp3") {
  const Measured m = render(dir, input, output);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_NE(m.err.find("warning: " + warning), std::string::npos) << m.err;
  EXPECT_NE(m.err.find("(" + input + ")"), std::string::npos) << m.err;
  const CommandResult pictures = run({"ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                      "stream=index", "-of", "csv=p=0", dir.file(output)});
  EXPECT_EQ(pictures.exit_code, 0);
  EXPECT_EQ(pictures.out, "") << "the output carries a picture";
}

std::string make(const TempDir& dir, const std::string& name, const std::string& ffmpeg_args) {
  const std::string path = dir.file(name);
  const std::string cmd = "ffmpeg -nostdin -v error -y " + ffmpeg_args + " " + quote(path);
  if (shell(cmd) != 0) throw std::runtime_error("fixture failed: " + cmd);
  return read_file(path);
}

const std::string kSine = "-f lavfi -i sine=frequency=440:duration=3 -ac 2";

// A 3 s MP3 without a tag of its own, for tags built by hand in front of it.
std::string bare_mp3(const TempDir& dir) {
  return make(dir, "bare.mp3", kSine + " -c:a libmp3lame -b:a 128k -id3v2_version 0 -write_xing 0");
}

std::string jpeg(const TempDir& dir) { return make(dir, "small.jpg", "-f lavfi -i color=c=red:s=64x64 -frames:v 1"); }

TEST(Bombs, SampleRateOfAGigahertzIsRefusedBeforeTheResamplerIsBuilt) {
  // Before: the resampler built a ~2 GiB filter and spun ~20 s before failing.
  TempDir dir;
  in_child([&] {
    bombs::write_file(dir.file("rate.wav"), bombs::wav(750000017, 2, 4, 2000000));
    bombs::write_file(dir.file("slow.wav"), bombs::wav(100, 2, 4, 2000000));
  });
  expect_refused(dir, dir.file("rate.wav"), "the audio's sample rate (750000017 Hz) is outside the 8 kHz to 384 kHz");
  expect_refused(dir, dir.file("slow.wav"), "sample rate (100 Hz)");
}

TEST(Bombs, AThousandChannelsAreRefused) {
  TempDir dir;
  in_child([&] { bombs::write_file(dir.file("wide.wav"), bombs::wav(44100, 1000, 2000, 2000000)); });
  expect_refused(dir, dir.file("wide.wav"), "the audio claims 1000 channels; at most 64 are accepted");
}

TEST(Bombs, AGigabytePacketSizeIsRefused) {
  TempDir dir;
  in_child([&] {
    std::string caf = make(dir, "ok.caf", kSine + " -c:a pcm_s16le -f caf");
    const std::size_t desc = caf.find("desc");
    if (desc == std::string::npos) throw std::runtime_error("no desc chunk");
    caf.replace(desc + 12 + 16, 4, std::string("\x40\x00\x00\x00", 4));  // bytes per packet
    bombs::write_file(dir.file("packets.caf"), caf);
    std::filesystem::remove(dir.file("ok.caf"));
  });
  expect_refused(dir, dir.file("packets.caf"), "header is implausible (blocks of 1073741824 bytes)");
}

TEST(Bombs, Mp3With53MbCoverRendersWithoutItAndKeepsItsTags) {
  // Before: 298 MiB peak RSS, the picture copied four times on its way to the output.
  TempDir dir;
  in_child([&] {
    const std::string tag = bombs::id3_tag(
        bombs::id3_frame("TIT2", bombs::text_payload("Heavy")) + bombs::id3_frame("TPE1", bombs::text_payload("Band")) +
        bombs::id3_frame("APIC", bombs::apic_payload(bombs::fat_jpeg(jpeg(dir), 53000000))));
    bombs::write_file(dir.file("cover.mp3"), tag + bare_mp3(dir));
  });
  expect_rendered_without_cover(dir, dir.file("cover.mp3"), "the cover art (50.5 MiB) is over the 16 MiB limit and was left out");
  EXPECT_EQ(ffprobe_tag(dir.file("out.mp3"), "title"), "Heavy (8D)");
  EXPECT_EQ(ffprobe_tag(dir.file("out.mp3"), "artist"), "Band");
}

TEST(Bombs, M4aWith53MbCoverRendersWithoutIt) {
  TempDir dir;
  in_child([&] {
    bombs::write_file(dir.file("fat.jpg"), bombs::fat_jpeg(jpeg(dir), 53000000));
    make(dir, "cover.m4a", kSine + " -i " + quote(dir.file("fat.jpg")) +
                               " -map 0 -map 1 -c:a aac -c:v copy -disposition:v attached_pic");
    std::filesystem::remove(dir.file("fat.jpg"));
  });
  expect_rendered_without_cover(dir, dir.file("cover.m4a"), "the cover art (50.5 MiB) is over the 16 MiB limit",
                                "out.m4a");
}

TEST(Bombs, FlacWith20MbCoverRendersWithoutIt) {
  TempDir dir;
  in_child([&] {
    const std::string flac = make(dir, "plain.flac", kSine);
    bombs::write_file(dir.file("cover.flac"), bombs::flac_with_picture(flac, bombs::fat_jpeg(jpeg(dir), 20 * kMiB)));
  });
  expect_rendered_without_cover(dir, dir.file("cover.flac"), "the cover art (20.0 MiB) is over the 16 MiB limit",
                                "out.flac");
}

TEST(Bombs, FlacWith60MbCoverRendersWithoutReadingIt) {
  // Over 16 MiB a FLAC picture only exists with a truncated block length that FFmpeg reads
  // past; such a block is cut out of what FFmpeg sees. Before: 363 MiB peak RSS.
  TempDir dir;
  in_child([&] {
    const std::string flac = make(dir, "plain.flac", kSine);
    bombs::write_file(dir.file("huge.flac"), bombs::flac_with_picture(flac, bombs::fat_jpeg(jpeg(dir), 60 * kMiB)));
  });
  expect_rendered_without_cover(dir, dir.file("huge.flac"), "the cover art (60.0 MiB) is over the 16 MiB limit",
                                "out.flac");
}

TEST(Bombs, OggCoverTooBigToHoldIsRefusedWithAReason) {
  // An Ogg comment packet cannot be skipped without rewriting pages: over what FFmpeg may
  // allocate at once, the file is refused.
  TempDir dir;
  in_child([&] {
    bombs::write_file(dir.file("meta.txt"), bombs::ogg_picture_metadata(bombs::fat_jpeg(jpeg(dir), 60 * kMiB)));
    make(dir, "huge.opus", kSine + " -i " + quote(dir.file("meta.txt")) + " -map_metadata 1 -map 0:a -c:a libopus");
    std::filesystem::remove(dir.file("meta.txt"));
  });
  expect_refused(dir, dir.file("huge.opus"), "the file needs more memory than allowed");
}

TEST(Bombs, OggWith17MbCoverRendersWithoutIt) {
  TempDir dir;
  in_child([&] {
    bombs::write_file(dir.file("meta.txt"), bombs::ogg_picture_metadata(bombs::fat_jpeg(jpeg(dir), 17 * kMiB)));
    make(dir, "cover.opus", kSine + " -i " + quote(dir.file("meta.txt")) + " -map_metadata 1 -map 0:a -c:a libopus");
    std::filesystem::remove(dir.file("meta.txt"));
  });
  expect_rendered_without_cover(dir, dir.file("cover.opus"), "the cover art (17.0 MiB) is over the 16 MiB limit",
                                "out.opus");
}

TEST(Bombs, CompressedId3FramesDoNotInflate) {
  // 20 zlib frames of 40 KB that each declare a 40 MiB picture, and 20 declaring 10 MiB of
  // text: under 1 MB on disk. Before: 1.7 GiB peak RSS.
  TempDir dir;
  in_child([&] {
    const std::string picture = bombs::id3_compressed_frame("APIC", bombs::apic_payload(std::string(40 * kMiB, '\0')));
    const std::string text = bombs::id3_compressed_frame(
        "TXXX", bombs::text_payload("k" + std::string(1, '\0') + std::string(10 * kMiB, 'a')));
    std::string frames = bombs::id3_frame("TIT2", bombs::text_payload("Zip"));
    for (int i = 0; i < 20; ++i) frames += picture + text;
    bombs::write_file(dir.file("zip.mp3"), bombs::id3_tag(frames) + bare_mp3(dir));
  });
  expect_rendered_without_cover(dir, dir.file("zip.mp3"), "the cover art (40.0 MiB) is over the 16 MiB limit");
  EXPECT_EQ(ffprobe_tag(dir.file("out.mp3"), "title"), "Zip (8D)");
}

TEST(Bombs, SeventyThousandTagFramesAreRefused) {
  // Each text frame goes into a dictionary FFmpeg searches linearly: quadratic time.
  TempDir dir;
  in_child([&] {
    std::string frames;
    for (int i = 0; i < 70000; ++i) frames += bombs::id3_frame("TXXX", bombs::text_payload(std::to_string(i)));
    bombs::write_file(dir.file("many.mp3"), bombs::id3_tag(frames) + bare_mp3(dir));
  });
  expect_refused(dir, dir.file("many.mp3"), "the file's tags are implausible");
}

TEST(Bombs, CoverClaimingGigapixelsIsNotAllocated) {
  // A 64x64 PNG whose header says 16000x16000: 768 MB once decoded. Before: 796 MiB peak.
  TempDir dir;
  in_child([&] {
    const std::string png =
        bombs::png_claiming(make(dir, "small.png", "-f lavfi -i color=c=blue:s=64x64 -frames:v 1"), 16000, 16000);
    bombs::write_file(dir.file("pixels.mp3"),
                      bombs::id3_tag(bombs::id3_frame("APIC", bombs::apic_payload(png, "", "image/png"))) + bare_mp3(dir));
  });
  const Measured m = render(dir, dir.file("pixels.mp3"));
  EXPECT_EQ(m.exit_code, 0) << m.err;
}

}  // namespace
}  // namespace sy::testing
