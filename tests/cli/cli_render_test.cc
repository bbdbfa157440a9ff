// `surroundyou render` as a new user meets it: default names, skipping, previews and trims,
// the report after each file, the batch summary, JSON events and progress on a narrow terminal.
#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sy::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBinary = SY_BINARY;
const std::string kMusicDir = "/usr/share/hyperrogue/music/";

void make_tone(const std::string& path, double seconds) {
  ASSERT_EQ(shell("ffmpeg -v error -y -f lavfi -i \"sine=frequency=440:sample_rate=44100:duration=" +
                  std::to_string(seconds) + "\" -ac 2 " + quote(path)),
            0);
}

// Pink noise, 40 s, 20 dB louder from 23 s to 33 s.
void make_song_with_a_loud_part(const std::string& path) {
  ASSERT_EQ(shell("ffmpeg -v error -y -f lavfi -i \"anoisesrc=color=pink:sample_rate=44100:duration=40:amplitude=0.5:"
                  "seed=5\" -af \"volume=volume='if(between(t,23,33),1,0.1)':eval=frame\" -ac 2 " + quote(path)),
            0);
}

double seconds_of(const std::string& path) { return static_cast<double>(decoded_samples(path)) / 44100.0; }

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> events;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) events.push_back(nlohmann::json::parse(line));
  return events;
}

std::vector<std::string> render_args(std::vector<std::string> extra) {
  std::vector<std::string> argv{kBinary, "render"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(CliRenderTest, WritesBesideTheInputUnderADefaultNameWithAReportLine) {
  TempDir dir;
  make_tone(dir.file("song.wav"), 2);
  CommandResult r = run(render_args({dir.file("song.wav"), "--progress", "none"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"song (8D).mp3", "song.wav"}));
  // One line: the output, then what was measured on it.
  EXPECT_TRUE(std::regex_search(r.out, std::regex("^✓ .*song \\(8D\\)\\.mp3: -14\\.[0-9] LUFS, peak -[0-9.]+ dBTP, "
                                                  "range [0-9.]+ LU, correlation -?[0-9.]+, rotation [0-9.]+ dB, 0:02, ")))
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST(CliRenderTest, RunningAgainSkipsWhatExistsAndForceRendersItAgain) {
  TempDir dir;
  make_tone(dir.file("a.wav"), 1);
  make_tone(dir.file("b.wav"), 1);
  ASSERT_EQ(run(render_args({dir.file("a.wav"), dir.file("b.wav"), "--progress", "none"})).exit_code, 0);
  const auto first = fs::last_write_time(dir.file("a (8D).mp3"));
  CommandResult again = run(render_args({dir.file("a.wav"), dir.file("b.wav"), "--progress", "none"}));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(std::count(again.out.begin(), again.out.end(), '\n'), 3) << again.out;  // two skips, the summary
  EXPECT_NE(again.out.find("a (8D).mp3: skipped: exists"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("0 converted, 2 skipped, 0 failed"), std::string::npos) << again.out;
  EXPECT_EQ(fs::last_write_time(dir.file("a (8D).mp3")), first);
  CommandResult forced = run(render_args({dir.file("a.wav"), "--progress", "none", "--force"}));
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(fs::last_write_time(dir.file("a (8D).mp3")), first);
  // Our own outputs are not inputs: a glob over the folder leaves them out.
  CommandResult glob = run(render_args({dir.file("a.wav"), dir.file("a (8D).mp3"), "--progress", "none"}));
  EXPECT_EQ(glob.exit_code, 0) << glob.err;
  EXPECT_FALSE(fs::exists(dir.file("a (8D) (8D).mp3")));
}

TEST(CliRenderTest, ForceNeverOverwritesAnInput) {
  TempDir dir;
  make_tone(dir.file("a.wav"), 1);
  const std::string before = read_file(dir.file("a.wav"));
  CommandResult r = run(render_args({dir.file("a.wav"), "-o", dir.file("a.wav"), "--force", "--progress", "none"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("replace an input"), std::string::npos) << r.err;
  // Another spelling of the same path, and a hard link to it, are the input too.
  fs::create_directory(dir.file("sub"));
  r = run(render_args({dir.file("a.wav"), "-o", dir.file("sub/../a.wav"), "--force", "--progress", "none"}));
  EXPECT_EQ(r.exit_code, 2);
  fs::create_hard_link(dir.file("a.wav"), dir.file("link.wav"));
  r = run(render_args({dir.file("a.wav"), "-o", dir.file("link.wav"), "--force", "--progress", "none"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(read_file(dir.file("a.wav")), before);
}

TEST(CliRenderTest, AnOutDirInsideTheInputFolderIsNeverReadAgain) {
  TempDir dir;
  fs::create_directories(dir.file("album/disc"));
  make_tone(dir.file("album/one.wav"), 1);
  make_tone(dir.file("album/disc/two.wav"), 1);
  for (const char* force : {"--jobs=1", "--force"}) {
    CommandResult r = run(render_args({dir.file("album"), "--out-dir", dir.file("album/8d"), "--progress", "none",
                                       force}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::vector<std::string> made;
  for (const auto& e : fs::recursive_directory_iterator(dir.file("album/8d")))
    if (e.is_regular_file()) made.push_back(fs::relative(e.path(), dir.file("album/8d")).string());
  std::sort(made.begin(), made.end());
  EXPECT_EQ(made, (std::vector<std::string>{"disc/two (8D).mp3", "one (8D).mp3"}));
  // The default names beside the inputs, twice: still no "(8D) (8D)".
  ASSERT_EQ(run(render_args({dir.file("album"), "--progress", "none"})).exit_code, 0);
  ASSERT_EQ(run(render_args({dir.file("album"), "--progress", "none", "--force"})).exit_code, 0);
  for (const auto& e : fs::recursive_directory_iterator(dir.file("album")))
    EXPECT_EQ(e.path().string().find("(8D) (8D)"), std::string::npos) << e.path();
}

TEST(CliRenderTest, PreviewComesFromTheLoudestPartAndLastsAsAsked) {
  TempDir dir;
  make_song_with_a_loud_part(dir.file("song.flac"));
  CommandResult r = run(render_args({dir.file("song.flac"), "--preview", "8", "--format", "flac", "--progress", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = dir.file("song (8D preview).flac");
  EXPECT_NEAR(seconds_of(out), 8.0, 0.1);
  const auto events = json_lines(r.out);
  const auto done = std::find_if(events.begin(), events.end(), [](const auto& e) { return e["event"] == "done"; });
  ASSERT_NE(done, events.end());
  const double start = (*done)["excerpt_start_seconds"];
  EXPECT_GE(start, 22.8);
  EXPECT_LE(start, 25.2);
  // The default length is 30 s; `--preview` may come before the input.
  r = run(render_args({"--preview", dir.file("song.flac"), "-o", dir.file("thirty.flac"), "--progress", "none"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(seconds_of(dir.file("thirty.flac")), 30.0, 0.1);
  EXPECT_NE(r.out.find("from 0:"), std::string::npos) << r.out;
}

TEST(CliRenderTest, StartAndEndTrimTheSong) {
  TempDir dir;
  make_tone(dir.file("song.wav"), 6);
  CommandResult r = run(render_args({dir.file("song.wav"), "-o", dir.file("cut.flac"), "--start", "0:01.5", "--end", "4",
                                     "--progress", "none"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(seconds_of(dir.file("cut.flac")), 2.5, 0.1);
  r = run(render_args({dir.file("song.wav"), "-o", dir.file("rest.flac"), "--start", "2", "--progress", "none"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(seconds_of(dir.file("rest.flac")), 4.0, 0.1);
  for (std::vector<std::string> bad : {std::vector<std::string>{"--start", "3", "--end", "2"},
                                       {"--start", "1:75"}, {"--end", "soon"}, {"--preview", "5", "--end", "4"}}) {
    bad.insert(bad.begin(), {dir.file("song.wav"), "-o", dir.file("bad.flac")});
    CommandResult refused = run(render_args(bad));
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_EQ(refused.err.rfind("error: ", 0), 0u) << refused.err;
  }
  CommandResult late = run(render_args({dir.file("song.wav"), "-o", dir.file("late.flac"), "--start", "1:00",
                                        "--progress", "none"}));
  EXPECT_EQ(late.exit_code, 3);
  EXPECT_NE(late.err.find("past the end of the song"), std::string::npos) << late.err;
  EXPECT_FALSE(fs::exists(dir.file("bad.flac")));
  EXPECT_FALSE(fs::exists(dir.file("late.flac")));
  // An end past the song's renders to the end, and says how long the song is.
  CommandResult long_end = run(render_args({dir.file("song.wav"), "-o", dir.file("long.flac"), "--start", "1",
                                            "--end", "5:00", "--progress", "none"}));
  ASSERT_EQ(long_end.exit_code, 0) << long_end.err;
  EXPECT_NEAR(seconds_of(dir.file("long.flac")), 5.0, 0.1);
  EXPECT_NE(long_end.err.find("warning: the song is only 6.0 s long, so the excerpt ends there, not at 5:00 ("),
            std::string::npos)
      << long_end.err;
  // An end within the song says nothing.
  EXPECT_EQ(run(render_args({dir.file("song.wav"), "-o", dir.file("fits.flac"), "--end", "6", "--progress", "none"})).err,
            "");
}

TEST(CliRenderTest, DryRunListsWhatWouldBeWrittenAndWritesNothing) {
  TempDir dir;
  fs::create_directory(dir.file("album"));
  make_tone(dir.file("album/one.wav"), 1);
  make_tone(dir.file("album/two.wav"), 1);
  std::ofstream(dir.file("album/two (8D).mp3")) << "made before";
  const auto before = dir.entries();
  CommandResult r = run(render_args({dir.file("album"), "--dry-run"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, dir.file("album/one.wav") + " → " + dir.file("album/one (8D).mp3") + "\n" +
                       dir.file("album/two.wav") + " → " + dir.file("album/two (8D).mp3") + " (skipped: exists)\n");
  r = run(render_args({dir.file("album"), "--out-dir", dir.file("out"), "--dry-run", "--progress", "json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto events = json_lines(r.out);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "planned");
  EXPECT_EQ(events[0]["output"], dir.file("out/one (8D).mp3"));
  EXPECT_EQ(dir.entries(), before);
  EXPECT_EQ(fs::directory_iterator(dir.file("album"))->path().parent_path(), fs::path(dir.file("album")));
  EXPECT_FALSE(fs::exists(dir.file("out")));
}

TEST(CliRenderTest, BatchSummaryRepeatsTheFailuresAtTheEnd) {
  TempDir dir;
  fs::create_directory(dir.file("album"));
  make_tone(dir.file("album/a-good.wav"), 1);
  std::ofstream(dir.file("album/b-notes.mp3")) << "not a song\n";
  make_tone(dir.file("album/c-done.wav"), 1);
  std::ofstream(dir.file("album/c-done (8D).mp3")) << "made before";
  CommandResult r = run(render_args({dir.file("album"), "--progress", "none"}));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("error: "), std::string::npos);
  const std::string tail = r.out.substr(r.out.find("1 converted"));
  EXPECT_EQ(tail, "1 converted, 1 skipped, 1 failed\n  failed: " + dir.file("album/b-notes.mp3") + ": " +
                      r.err.substr(7, r.err.find(" (") - 7) + "\n")
      << r.out;
}

TEST(CliRenderTest, JsonEventsNameTheSameInputCarryTheReportAndEndWithASummary) {
  TempDir dir;
  fs::create_directory(dir.file("album"));
  make_tone(dir.file("album/one.wav"), 2);
  std::ofstream(dir.file("album/two.mp3")) << "not a song\n";
  CommandResult r = run(render_args({dir.file("album"), "--out-dir", dir.file("out"), "--progress", "json"}));
  EXPECT_EQ(r.exit_code, 3);
  const auto events = json_lines(r.out);
  ASSERT_FALSE(events.empty());
  for (const auto& e : events) {
    if (e["event"] == "summary") continue;
    const std::string input = e["input"];
    EXPECT_TRUE(input == dir.file("album/one.wav") || input == dir.file("album/two.mp3")) << e.dump();
  }
  const auto done = std::find_if(events.begin(), events.end(), [](const auto& e) { return e["event"] == "done"; });
  ASSERT_NE(done, events.end());
  const auto& report = (*done)["report"];
  for (const char* field : {"integrated_lufs", "true_peak_dbtp", "loudness_range_lu", "correlation", "rotation_depth_db"})
    EXPECT_TRUE(report[field].is_number()) << field << " in " << report.dump();
  EXPECT_NEAR(report["integrated_lufs"].get<double>(), -14.0, 0.3);
  const auto& summary = events.back();
  EXPECT_EQ(summary["event"], "summary");
  EXPECT_EQ(summary["converted"], 1);
  EXPECT_EQ(summary["failed"], 1);
  EXPECT_EQ(summary["failures"][0]["input"], dir.file("album/two.mp3"));
  EXPECT_EQ(summary["exit_code"], 3);
}

// A terminal of `columns` x 24 that records whether any line ever wrapped and what is left on
// the screen at the end. Knows what the progress display writes: text, \r, \n and the
// cursor-up and erase-line sequences.
struct Terminal {
  explicit Terminal(int cols) : columns(cols), rows(1) {}
  int columns;
  std::vector<std::vector<std::string>> rows;
  int row = 0, col = 0;
  bool wrapped = false;

  void feed(const std::string& bytes) {
    for (std::size_t i = 0; i < bytes.size();) {
      const unsigned char c = static_cast<unsigned char>(bytes[i]);
      if (c == 0x1b && i + 1 < bytes.size() && bytes[i + 1] == '[') {
        std::size_t j = i + 2;
        while (j < bytes.size() && !std::isalpha(static_cast<unsigned char>(bytes[j]))) ++j;
        const std::string params = bytes.substr(i + 2, j - i - 2);
        const char op = j < bytes.size() ? bytes[j] : 0;
        if (op == 'A') row = std::max(0, row - (params.empty() ? 1 : std::stoi(params)));
        if (op == 'K') line().clear();
        i = j + 1;
        continue;
      }
      if (c == '\r') {
        col = 0;
        ++i;
        continue;
      }
      if (c == '\n') {
        ++row;
        line();
        ++i;
        continue;
      }
      std::size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (col == columns) {
        wrapped = true;
        ++row;
        col = 0;
      }
      auto& l = line();
      if (static_cast<int>(l.size()) <= col) l.resize(static_cast<std::size_t>(col) + 1, " ");
      l[static_cast<std::size_t>(col)] = bytes.substr(i, n);
      ++col;
      i += n;
    }
  }
  std::vector<std::string>& line() {
    if (static_cast<int>(rows.size()) <= row) rows.resize(static_cast<std::size_t>(row) + 1);
    return rows[static_cast<std::size_t>(row)];
  }
  std::string screen() const {
    std::string s;
    for (const auto& r : rows) {
      for (const auto& cell : r) s += cell;
      s += "\n";
    }
    return s;
  }
};

// Runs argv on a pseudo-terminal of `columns` columns; returns its exit status and everything
// it wrote (stdout and stderr both go to the terminal).
std::pair<int, std::string> run_on_terminal(const std::vector<std::string>& argv, int columns) {
  winsize size{};
  size.ws_col = static_cast<unsigned short>(columns);
  size.ws_row = 24;
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  std::string bytes;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(master, buf, sizeof buf);
    if (n > 0) bytes.append(buf, static_cast<std::size_t>(n));
    else if (n < 0 && errno == EINTR) continue;
    else break;  // EIO once the child has closed the terminal
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), bytes};
}

TEST(CliRenderTest, ProgressLinesFitNarrowTerminalsAndNeverWrap) {
  TempDir dir;
  const std::string long_name = "a song with a rather long name that goes on and on";
  make_tone(dir.file(long_name + " 1.wav"), 6);
  make_tone(dir.file(long_name + " 2.wav"), 6);
  for (int columns : {60, 80}) {
    auto [status, bytes] = run_on_terminal(
        render_args({dir.file(long_name + " 1.wav"), dir.file(long_name + " 2.wav"), "--jobs", "2", "--force"}),
        columns);
    ASSERT_EQ(status, 0) << bytes;
    EXPECT_NE(bytes.find("█"), std::string::npos) << "no progress bar was drawn at " << columns << " columns";
    Terminal term(columns);
    term.feed(bytes);
    EXPECT_FALSE(term.wrapped) << columns << " columns:\n" << term.screen();
    // What stays on the screen: the report lines and the summary, no stale bar.
    const std::string screen = term.screen();
    EXPECT_EQ(screen.find("█"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("░"), std::string::npos) << screen;
    EXPECT_NE(screen.find("2 converted, 0 skipped, 0 failed"), std::string::npos) << screen;
  }
}

TEST(CliRenderTest, TheFormatTableDecidesBitratesExtensionsAndSizes) {
  TempDir dir;
  make_tone(dir.file("in.wav"), 2);
  CommandResult r = run(render_args({dir.file("in.wav"), "-o", dir.file("hi.mp3"), "--bitrate", "320", "--progress", "none"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CommandResult probe = run({"ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=bit_rate",
                             "-of", "default=nw=1:nk=1", dir.file("hi.mp3")});
  EXPECT_EQ(probe.out, "320000\n");
  r = run(render_args({dir.file("in.wav"), "-o", dir.file("x.mp3"), "--bitrate", "400k"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("between 32k and 320k"), std::string::npos) << r.err;
  r = run(render_args({dir.file("in.wav"), "-o", dir.file("out.xyz")}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(".xyz"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(".mp3, .m4a, .opus, .flac, .wav"), std::string::npos) << r.err;
  r = run(render_args({dir.file("in.wav"), "-o", dir.file("ok.mp3"), "--max-size", "200M", "--progress", "none"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run(render_args({dir.file("in.wav"), "-o", dir.file("no.mp3"), "--max-size", "100k", "--progress", "none"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("over the 100 KB limit"), std::string::npos) << r.err;
  r = run(render_args({dir.file("in.wav"), "-o", dir.file("no.mp3"), "--max-size", "lots"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"hi.mp3", "in.wav", "ok.mp3"}));
}

// "ogg" means Ogg Vorbis to people, which we do not write: refused with the formats we do write
// (it used to give Opus without a word). An Ogg song kept in its container becomes Opus in Ogg.
TEST(CliRenderTest, OggIsRefusedWithTheChoicesAndKeepTurnsOggIntoOpus) {
  TempDir dir;
  ASSERT_EQ(shell("ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=2 -ac 2 -c:a libvorbis " +
                  quote(dir.file("in.ogg"))),
            0);
  for (const std::vector<std::string>& how : {std::vector<std::string>{"--format", "ogg", "--out-dir", dir.file("out")},
                                              {"-o", dir.file("x.ogg")}}) {
    std::vector<std::string> argv{dir.file("in.ogg")};
    argv.insert(argv.end(), how.begin(), how.end());
    CommandResult r = run(render_args(argv));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(r.err.find("mp3, m4a, opus, flac, wav") != std::string::npos ||
                r.err.find(".mp3, .m4a, .opus, .flac, .wav") != std::string::npos)
        << r.err;
  }
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"in.ogg"});
  CommandResult help = run(render_args({"--help"}));
  for (const char* name : {"mp3, m4a,", "opus, flac, wav, mp4, mov, mkv, webm or keep", "aac", "wave", "matroska",
                           "no Ogg Vorbis"})
    EXPECT_NE(help.out.find(name), std::string::npos) << name;
  CommandResult kept = run(render_args({dir.file("in.ogg"), "--format", "keep", "--progress", "none"}));
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  const CommandResult codec = run({"ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                                   "stream=codec_name", "-of", "default=nw=1:nk=1", dir.file("in (8D).opus")});
  EXPECT_EQ(codec.out, "opus\n");
}

// ffmpeg's own EBU R128 meter (libavfilter's ebur128) on the delivered file.
std::pair<double, double> ffmpeg_loudness_and_true_peak(const std::string& path) {
  CommandResult r = run({"ffmpeg", "-nostats", "-hide_banner", "-i", path, "-af", "ebur128=peak=true", "-f", "null", "-"});
  std::smatch m;
  const std::string& log = r.err;
  const std::string summary = log.substr(log.rfind("Summary:"));
  EXPECT_TRUE(std::regex_search(summary, m, std::regex("I:\\s+(-?[0-9.]+) LUFS"))) << log;
  const double lufs = std::stod(m[1]);
  EXPECT_TRUE(std::regex_search(summary, m, std::regex("Peak:\\s+(-?[0-9.]+) dBFS"))) << log;
  return {lufs, std::stod(m[1])};
}

TEST(CliRenderTest, LossyOutputsOfRealMusicLandOnTheTargetAsDecoded) {
  const std::string song = kMusicDir + "hr-domina-hunting.ogg";
  if (!fs::exists(song)) GTEST_SKIP() << "hyperrogue-music is not installed";
  TempDir dir;
  for (const char* ext : {".mp3", ".m4a", ".opus"}) {
    const std::string out = dir.file(std::string("out") + ext);
    CommandResult r = run(render_args({song, "-o", out, "--start", "0:30", "--end", "0:55", "--progress", "json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto [lufs, peak] = ffmpeg_loudness_and_true_peak(out);
    EXPECT_NEAR(lufs, -14.0, 0.3) << ext;
    EXPECT_LE(peak, -1.0) << ext;
    const auto events = json_lines(r.out);
    const auto done = std::find_if(events.begin(), events.end(), [](const auto& e) { return e["event"] == "done"; });
    ASSERT_NE(done, events.end());
    EXPECT_NEAR((*done)["report"]["integrated_lufs"].get<double>(), lufs, 0.15) << ext;
    RecordProperty(std::string(ext + 1) + "_lufs", std::to_string(lufs));
    RecordProperty(std::string(ext + 1) + "_true_peak", std::to_string(peak));
  }
}

TEST(CliRenderTest, HelpNamesEveryFlagAndEveryExitStatus) {
  CommandResult help = run({kBinary, "--help"});
  EXPECT_NE(help.out.find("130 interrupted"), std::string::npos) << help.out;
  CommandResult render_help = run({kBinary, "render", "--help"});
  for (const char* flag : {"--preview", "--start", "--end", "--dry-run", "--force", "--max-size", "--bitrate",
                           "--out-dir", "(8D preview)", "130 interrupted"})
    EXPECT_NE(render_help.out.find(flag), std::string::npos) << flag;
}

TEST(CliRenderTest, ServeLogsToStderrAndLeavesStdoutAlone) {
  TempDir dir;
  CommandResult r = run({"timeout", "-s", "INT", "3", kBinary, "serve", "--listen", "127.0.0.1:0", "--data-dir",
                         dir.file("data"), "--workers", "1"});
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("\"msg\":\"serving\""), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sy::testing
