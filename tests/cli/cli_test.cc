// Runs the real `surroundyou` binary the way users and scripts do.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace sy::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBinary = SY_BINARY;

// Makes a stereo test song with ffmpeg: a tone on the left, another on the right, tagged.
void make_song(const std::string& path, double seconds, const std::string& extra = "") {
  const std::string cmd = "ffmpeg -v error -y -f lavfi -i \"sine=frequency=440:sample_rate=44100:duration=" +
                          std::to_string(seconds) + "\" -f lavfi -i \"sine=frequency=660:sample_rate=44100:duration=" +
                          std::to_string(seconds) +
                          "\" -filter_complex \"[0][1]amerge=inputs=2,volume=0.5\" -metadata title=Song -metadata "
                          "artist=Band " +
                          extra + " " + quote(path);
  ASSERT_EQ(shell(cmd), 0) << cmd;
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

// Every failed render: status 3, one line `error: ... (file)`, nothing left in the folder
// but the inputs.
void expect_bad_input(const TempDir& dir, const std::string& input, const std::string& message_part,
                      const std::vector<std::string>& extra_args = {}) {
  const auto before = dir.entries();
  std::vector<std::string> argv = {kBinary, "render", input, "-o", dir.file("out.mp3"), "--progress", "none"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  CommandResult r = run(argv);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(" + input + ")"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  if (!message_part.empty()) {
    EXPECT_NE(r.err.find(message_part), std::string::npos) << "expected '" << message_part << "' in: " << r.err;
  }
  EXPECT_EQ(dir.entries(), before) << "the failed render left files behind";
}

TEST(CliTest, HelpAndVersion) {
  CommandResult help = run({kBinary, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("render"), std::string::npos);
  EXPECT_NE(help.out.find("presets"), std::string::npos);
  CommandResult render_help = run({kBinary, "render", "--help"});
  EXPECT_EQ(render_help.exit_code, 0);
  for (const char* flag : {"--out-dir", "--preset", "--period", "--direction", "--elevation", "--reverb", "--format",
                           "--bitrate", "--loudness", "--jobs", "--progress", "--force", "--max-duration",
                           "--max-size"})
    EXPECT_NE(render_help.out.find(flag), std::string::npos) << flag;
  CommandResult version = run({kBinary, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("surroundyou "), std::string::npos);
}

// Code points: every character of the help takes one column.
std::size_t widest_line(const std::string& text) {
  std::size_t widest = 0, width = 0;
  for (const char c : text) {
    if (c == '\n') {
      widest = std::max(widest, width);
      width = 0;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++width;
    }
  }
  return std::max(widest, width);
}

// In an 80-column terminal no line of help folds at the edge into the option column, and
// every option still says what it takes.
TEST(CliTest, HelpFitsEightyColumns) {
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"--help"}, {"render", "--help"}, {"probe", "--help"}, {"presets", "--help"},
        {"presets"}, {"serve", "--help"}, {"worker", "--help"}}) {
    std::vector<std::string> argv = {"/usr/bin/env", "COLUMNS=80", kBinary};
    argv.insert(argv.end(), command.begin(), command.end());
    CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << command.front();
    EXPECT_LE(widest_line(r.out), 80u) << command.front() << " " << command.back() << ":\n" << r.out;
  }
  CommandResult render_help = run({"/usr/bin/env", "COLUMNS=80", kBinary, "render", "--help"});
  EXPECT_NE(render_help.out.find("-j,--jobs N "), std::string::npos) << render_help.out;
  EXPECT_NE(render_help.out.find("--max-size SIZE "), std::string::npos) << render_help.out;
  // A wide terminal keeps each option's help on one line.
  CommandResult wide = run({"/usr/bin/env", "COLUMNS=250", kBinary, "serve", "--help"});
  EXPECT_NE(wide.out.find("--public-url URL            How clients reach this server, scheme://host[:port] (presigned"),
            std::string::npos)
      << wide.out;
}

// Each command's help is laid out once: one blank line between parts, none trailing, and the
// top-level footer ("Run `surroundyou COMMAND --help`…") only where there are commands to run.
TEST(CliTest, CommandHelpHasOneBlankLineBetweenPartsAndItsOwnFooter) {
  for (const char* command : {"render", "probe", "presets", "serve", "worker"}) {
    CommandResult r = run({"/usr/bin/env", "COLUMNS=80", kBinary, command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_EQ(r.out.find("\n\n\n"), std::string::npos) << command << " --help:\n" << r.out;
    EXPECT_NE(r.out.substr(r.out.size() - 2), "\n\n") << command << " --help ends in a blank line";
    EXPECT_EQ(r.out.find("COMMAND --help"), std::string::npos) << command << " --help:\n" << r.out;
  }
  CommandResult worker = run({"/usr/bin/env", "COLUMNS=80", kBinary, "worker", "--help"});
  EXPECT_NE(worker.out.find("with the embedded store, else the temp folder)\n\nExit status: 0 after a clean stop"),
            std::string::npos)
      << worker.out;
  EXPECT_EQ(worker.out.find("3 input"), std::string::npos) << "a worker takes no input file:\n" << worker.out;
  CommandResult top = run({kBinary, "--help"});
  EXPECT_NE(top.out.find("Run `surroundyou COMMAND --help`"), std::string::npos) << top.out;
}

// A mistyped command is a usage error even with --help (which would print the top-level help
// and exit 0), with the nearest command named when it is a typo away.
TEST(CliTest, AnUnknownCommandIsAUsageErrorWithASuggestion) {
  for (const std::vector<std::string>& argv : {std::vector<std::string>{kBinary, "rendr", "--help"},
                                               {kBinary, "rendr", "song.mp3"}, {kBinary, "--help", "rendr"}}) {
    CommandResult r = run(argv);
    EXPECT_EQ(r.exit_code, 2) << argv[1] << " " << argv[2];
    EXPECT_EQ(r.out, "") << "no help for a command that does not exist";
    EXPECT_NE(r.err.find("error: unknown command 'rendr' (did you mean 'render'?"), std::string::npos) << r.err;
  }
  CommandResult far = run({kBinary, "transmogrify"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
  EXPECT_NE(far.err.find("commands: render, probe, presets, serve, worker"), std::string::npos) << far.err;
  EXPECT_EQ(run({kBinary, "presets"}).exit_code, 0);
}

// An output folder that cannot be made is named with the reason, not a std::filesystem dump.
TEST(CliTest, AnOutputFolderThatCannotBeMadeIsNamed) {
  TempDir dir;
  make_song(dir.file("a.wav"), 1);
  const std::string out_dir = dir.file("a.wav") + "/8d";  // under a file: never a folder
  CommandResult r = run({kBinary, "render", dir.file("a.wav"), "--out-dir", out_dir, "--progress", "none"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "error: cannot create the output folder: Not a directory (" + out_dir + ")\n");
}

// serve on a data folder it cannot make says which and why, before it listens.
TEST(CliTest, ServeNamesADataFolderItCannotMake) {
  TempDir dir;
  write_file(dir.file("plain"), "a file, not a folder");
  const std::string data = dir.file("plain") + "/data";
  CommandResult r = run({kBinary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--workers", "0"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "error: cannot create the data folder: Not a directory (" + data + ")\n");
}

// A bad setting says what was expected, echoes what came and names where it came from: the
// flag, the environment variable (with its setting) or the config file's key.
TEST(CliTest, ServeSettingErrorsNameTheSettingTheSourceAndTheExpectedForm) {
  TempDir dir;
  CommandResult flag = run({kBinary, "serve", "--listen", "nonsense", "--data-dir", dir.file("data")});
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_EQ(flag.err,
            "error: --listen: expected HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080 "
            "(got 'nonsense')\n");
  CommandResult port = run({kBinary, "serve", "--listen", "127.0.0.1:99999", "--data-dir", dir.file("data")});
  EXPECT_EQ(port.exit_code, 2) << port.err;
  EXPECT_NE(port.err.find("(got '127.0.0.1:99999')"), std::string::npos) << port.err;

  CommandResult env = run({"/usr/bin/env", "SY_WORKERS=abc", kBinary, "serve", "--listen", "127.0.0.1:0",
                           "--data-dir", dir.file("data")});
  EXPECT_EQ(env.exit_code, 2) << env.err;
  EXPECT_EQ(env.err, "error: environment variable SY_WORKERS (workers.count): not a number: abc\n");
  CommandResult worker = run({"/usr/bin/env", "SY_WORKERS=1.5", kBinary, "worker"});
  EXPECT_EQ(worker.exit_code, 2) << worker.err;
  EXPECT_EQ(worker.err,
            "error: environment variable SY_WORKERS (workers.count): must be an integer from 0 to "
            "2147483647 (got 1.5)\n");

  const std::string config = dir.file("surroundyou.toml");
  write_file(config, "[server]\nlisten = \"localhost\"\n");
  CommandResult file = run({kBinary, "serve", "--config", config, "--data-dir", dir.file("data")});
  EXPECT_EQ(file.exit_code, 2) << file.err;
  EXPECT_EQ(file.err, "error: config file " + config +
                          ", key server.listen: expected HOST:PORT with a port from 0 to 65535, e.g. "
                          "127.0.0.1:8080 (got 'localhost')\n");
  EXPECT_FALSE(fs::exists(dir.file("data"))) << "nothing is made before the settings are good";
}

TEST(CliTest, UsageErrorsExitTwo) {
  TempDir dir;
  make_song(dir.file("a.wav"), 1);
  EXPECT_EQ(run({kBinary}).exit_code, 2);
  EXPECT_EQ(run({kBinary, "render", dir.file("a.wav"), "-o", dir.file("x.mp3"), "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(run({kBinary, "render"}).exit_code, 2);  // nothing to convert
  EXPECT_EQ(run({kBinary, "render", dir.file("a.wav"), "-o", dir.file("x.mp3"), "--out-dir", dir.file("o")}).exit_code, 2);
  EXPECT_EQ(run({kBinary, "render", dir.file("a.wav"), dir.file("a.wav"), "-o", dir.file("x.mp3")}).exit_code, 2);
  CommandResult preset = run({kBinary, "render", dir.file("a.wav"), "-o", dir.file("x.mp3"), "--preset", "nope"});
  EXPECT_EQ(preset.exit_code, 2);
  EXPECT_NE(preset.err.find("classic"), std::string::npos) << "should list the presets: " << preset.err;
  CommandResult period = run({kBinary, "render", dir.file("a.wav"), "-o", dir.file("x.mp3"), "--period", "-3"});
  EXPECT_EQ(period.exit_code, 2);
  EXPECT_NE(period.err.find("period"), std::string::npos) << period.err;
  EXPECT_EQ(run({kBinary, "render", dir.file("a.wav"), "-o", dir.file("x.mp3"), "--direction", "up"}).exit_code, 2);
  EXPECT_EQ(run({kBinary, "render", dir.file("a.wav"), "-o", dir.file("x.wav"), "--format", "mp3"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(dir.file("x.mp3")));
}

TEST(CliTest, BadInputsExitThreeAndLeaveNothing) {
  TempDir dir;
  write_file(dir.file("empty.mp3"), "");
  expect_bad_input(dir, dir.file("empty.mp3"), "empty");
  write_file(dir.file("notes.mp3"), "These are my shopping notes, not a song.\nMilk\nBread\n");
  expect_bad_input(dir, dir.file("notes.mp3"), "not a supported audio file");
  expect_bad_input(dir, dir.file("missing.mp3"), "not found");

  // A truncated MP3: the first third of a real one.
  make_song(dir.file("whole.mp3"), 6);
  {
    std::ifstream in(dir.file("whole.mp3"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write_file(dir.file("truncated.mp3"), bytes.substr(0, bytes.size() / 3));
    fs::remove(dir.file("whole.mp3"));
  }
  expect_bad_input(dir, dir.file("truncated.mp3"), "truncated");

  // A WAV whose header claims 10 hours but holds one second.
  {
    const std::uint32_t rate = 44100, channels = 2, bits = 16;
    const std::uint32_t claimed = 10u * 3600u * rate * channels * (bits / 8);
    std::string h;
    auto u32 = [&](std::uint32_t v) { h.append(reinterpret_cast<const char*>(&v), 4); };
    auto u16 = [&](std::uint16_t v) { h.append(reinterpret_cast<const char*>(&v), 2); };
    h += "RIFF";
    u32(claimed + 36);
    h += "WAVEfmt ";
    u32(16);
    u16(1);
    u16(channels);
    u32(rate);
    u32(rate * channels * bits / 8);
    u16(channels * bits / 8);
    u16(bits);
    h += "data";
    u32(claimed);
    h += std::string(rate * channels * bits / 8, '\0');
    write_file(dir.file("liar.wav"), h);
  }
  // Its real length is fine, so it renders — but a header lie must not make us refuse or
  // hang; with a 0.5 s limit the real decoded length is over and it is refused.
  expect_bad_input(dir, dir.file("liar.wav"), "longer than", {"--max-duration", "0.5"});

  // Playlists and scripts that point at other local files must be refused.
  make_song(dir.file("secret.wav"), 1);
  write_file(dir.file("list.m3u8"),
             "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + dir.file("secret.wav") + "\n#EXT-X-ENDLIST\n");
  expect_bad_input(dir, dir.file("list.m3u8"), "unsupported file type");
  write_file(dir.file("playlist.mp3"),
             "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + dir.file("secret.wav") + "\n#EXT-X-ENDLIST\n");
  expect_bad_input(dir, dir.file("playlist.mp3"), "unsupported file type");
  write_file(dir.file("concat.txt"), "ffconcat version 1.0\nfile '" + dir.file("secret.wav") + "'\n");
  expect_bad_input(dir, dir.file("concat.txt"), "unsupported file type");

  // Limits.
  make_song(dir.file("five.wav"), 5);
  expect_bad_input(dir, dir.file("five.wav"), "longer than", {"--max-duration", "2"});
  expect_bad_input(dir, dir.file("five.wav"), "limit", {"--max-size", "1000"});
}

TEST(CliTest, BrokenOggFromHyperrogueMusic) {
  const std::string dir_name = "/usr/share/hyperrogue/music/";
  int seen = 0;
  for (const char* name : {"hr-savino-caribbean.ogg", "hr-savino-ivory.ogg", "hr-savino-ocean.ogg"}) {
    const std::string path = dir_name + name;
    if (!fs::exists(path)) continue;
    ++seen;
    TempDir dir;
    expect_bad_input(dir, path, "damaged or not a supported audio file");
  }
  if (seen == 0) GTEST_SKIP() << "hyperrogue-music is not installed";
}

TEST(CliTest, BypassRenderKeepsLengthExactlyForWavAndFlac) {
  TempDir dir;
  make_song(dir.file("in.wav"), 3.3);
  const long long in_samples = decoded_samples(dir.file("in.wav"));
  ASSERT_GT(in_samples, 0);
  for (const char* ext : {".wav", ".flac"}) {
    const std::string out = dir.file(std::string("out") + ext);
    CommandResult r = run({kBinary, "render", dir.file("in.wav"), "-o", out, "--bypass", "--progress", "none"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(decoded_samples(out), in_samples) << ext;
  }
}

TEST(CliTest, RenderKeepsLengthTagsAndAddsSuffix) {
  TempDir dir;
  make_song(dir.file("in.flac"), 4, "-metadata album=Record");
  const std::string out = dir.file("out.flac");
  CommandResult r = run({kBinary, "render", dir.file("in.flac"), "-o", out, "--progress", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(decoded_samples(out), decoded_samples(dir.file("in.flac")));
  EXPECT_EQ(ffprobe_tag(out, "title"), "Song (8D)");
  EXPECT_EQ(ffprobe_tag(out, "artist"), "Band");
  EXPECT_EQ(ffprobe_tag(out, "album"), "Record");
  // Only the output is new: no temporary files left.
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"in.flac", "out.flac"}));
}

TEST(CliTest, FftPlansAndFiltersAreKeptBetweenRunsAndABrokenCacheIsHarmless) {
  TempDir dir;
  make_song(dir.file("in.flac"), 2);
  const std::string cache = dir.file("cache");
  const std::string wisdom = cache + "/fftw-wisdom";
  auto render = [&](const std::string& env, const std::string& out) {
    return shell(env + " " + quote(kBinary) + " render " + quote(dir.file("in.flac")) + " -o " + quote(dir.file(out)) +
                 " --progress none");
  };
  auto starts_like_wisdom = [&] {
    std::ifstream f(wisdom);
    std::string first;
    f >> first;
    return first.rfind("(fftw-", 0) == 0;
  };
  ASSERT_EQ(render("SY_CACHE_DIR=" + quote(cache), "a.flac"), 0);
  EXPECT_TRUE(starts_like_wisdom()) << "no FFTW wisdom kept in " << wisdom;
  // The designed filters too: read back by the next run, whose output is the same.
  std::vector<fs::path> designs;
  for (const auto& e : fs::directory_iterator(cache + "/filters")) designs.push_back(e.path());
  ASSERT_EQ(designs.size(), 1u) << "one design kept for one setting";
  ASSERT_EQ(render("SY_CACHE_DIR=" + quote(cache), "read.flac"), 0);
  EXPECT_EQ(decoded_samples(dir.file("a.flac")), decoded_samples(dir.file("read.flac")));
  write_file(wisdom, "not wisdom at all");
  write_file(designs[0].string(), "not filters at all");
  ASSERT_EQ(render("SY_CACHE_DIR=" + quote(cache), "b.flac"), 0) << "a broken cache must not stop a render";
  EXPECT_TRUE(starts_like_wisdom()) << "the broken cache was not replaced";
  EXPECT_GT(fs::file_size(designs[0]), 1000u) << "the broken design was not replaced";
  EXPECT_EQ(decoded_samples(dir.file("a.flac")), decoded_samples(dir.file("b.flac")));
  // An empty SY_CACHE_DIR keeps nothing, not even under HOME.
  fs::create_directories(dir.file("home"));
  ASSERT_EQ(render("SY_CACHE_DIR= HOME=" + quote(dir.file("home")), "c.flac"), 0);
  EXPECT_TRUE(fs::is_empty(dir.file("home")));
  EXPECT_EQ(decoded_samples(dir.file("a.flac")), decoded_samples(dir.file("c.flac")));
}

TEST(CliTest, SkipsAnExistingOutputUnlessForced) {
  TempDir dir;
  make_song(dir.file("in.wav"), 1);
  write_file(dir.file("out.wav"), "precious");
  CommandResult r = run({kBinary, "render", dir.file("in.wav"), "-o", dir.file("out.wav"), "--progress", "none"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped: exists"), std::string::npos) << r.out;
  EXPECT_EQ(read_file(dir.file("out.wav")), "precious");
  r = run({kBinary, "render", dir.file("in.wav"), "-o", dir.file("out.wav"), "--progress", "none", "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(decoded_samples(dir.file("out.wav")), 40000);
}

TEST(CliTest, OutDirParallelJobsAndJsonProgress) {
  TempDir dir;
  fs::create_directory(dir.file("album"));
  make_song(dir.file("album/one.wav"), 2);
  make_song(dir.file("album/two.flac"), 2);
  write_file(dir.file("album/cover.txt"), "not audio, skipped because of its extension");
  CommandResult r = run({kBinary, "render", dir.file("album"), "--out-dir", dir.file("out"), "--jobs", "2",
                         "--progress", "json", "--format", "mp3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("out/one (8D).mp3")));
  EXPECT_TRUE(fs::exists(dir.file("out/two (8D).mp3")));
  int progress_lines = 0, done_lines = 0;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);  // every line is one JSON object
    if (j["event"] == "progress") {
      ++progress_lines;
      EXPECT_GE(j["progress"].get<double>(), 0.0);
      EXPECT_LE(j["progress"].get<double>(), 1.0);
    }
    if (j["event"] == "done") ++done_lines;
  }
  EXPECT_EQ(done_lines, 2);
  EXPECT_GE(progress_lines, 2);
}

TEST(CliTest, InterruptLeavesNothingBehind) {
  TempDir dir;
  make_song(dir.file("long.wav"), 240);
  const auto before = dir.entries();
  // Its output goes nowhere: a log file in `dir` would count as something left behind.
  ChildProcess render({kBinary, "render", dir.file("long.wav"), "-o", dir.file("long-8d.flac"),
                       "--progress", "none"},
                      {}, "/dev/null");
  // Wait until the render is under way (its temporary file exists), then Ctrl-C it.
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    for (const auto& e : dir.entries())
      if (e.find(".part-") != std::string::npos) started = true;
  }
  EXPECT_TRUE(started);
  // 130 is also what a death by SIGINT reports; that death would leave the .part file behind.
  EXPECT_EQ(render.stop(SIGINT), 130);
  EXPECT_EQ(dir.entries(), before);
}

TEST(CliTest, ProbeAndPresets) {
  TempDir dir;
  make_song(dir.file("in.mp3"), 2);
  CommandResult r = run({kBinary, "probe", dir.file("in.mp3"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["codec"], "mp3");
  EXPECT_EQ(j["sample_rate"], 44100);
  EXPECT_EQ(j["channels"], 2);
  EXPECT_NEAR(j["duration_seconds"].get<double>(), 2.0, 0.1);
  EXPECT_EQ(j["tags"]["title"], "Song");
  CommandResult text = run({kBinary, "probe", dir.file("in.mp3")});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("44100 Hz"), std::string::npos) << text.out;
  write_file(dir.file("bad.mp3"), "nope");
  EXPECT_EQ(run({kBinary, "probe", dir.file("bad.mp3")}).exit_code, 3);
  // --max-size takes sizes the way render's does.
  EXPECT_EQ(run({kBinary, "probe", dir.file("in.mp3"), "--max-size", "200M"}).exit_code, 0);
  CommandResult small = run({kBinary, "probe", dir.file("in.mp3"), "--max-size", "1k"});
  EXPECT_EQ(small.exit_code, 3);
  EXPECT_NE(small.err.find("over the 1 KB"), std::string::npos) << small.err;
  CommandResult typo = run({kBinary, "probe", dir.file("in.mp3"), "--max-size", "lots"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err, "error: --max-size must be a size like 200M or 1.5G (got 'lots')\n");

  CommandResult p = run({kBinary, "presets", "--json"});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  auto presets = nlohmann::json::parse(p.out);
  std::vector<std::string> names;
  for (const auto& preset : presets) names.push_back(preset["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"classic", "slow", "fast", "subtle", "legacy", "slowed-reverb", "groove",
                                              "vocal-focus"}));
}

}  // namespace
}  // namespace sy::testing
