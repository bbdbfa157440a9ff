#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/progress_display.h"
#include "engine/convolver.h"
#include "engine/filter_cache.h"
#include "engine/presets.h"
#include "base/errors.h"
#include "pipeline/output_file.h"
#include "pipeline/render.h"
#include "pipeline/settings_schema.h"

namespace sy::cli {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_cancel{false};
std::atomic<int> g_signals{0};

extern "C" void on_interrupt(int) {
  // First Ctrl-C: stop cleanly (renders notice and remove their temporary files).
  // Second: remove the temporary files now and leave.
  if (g_signals.fetch_add(1) == 0) {
    g_cancel.store(true);
  } else {
    pipeline::OutputFile::remove_all_pending_from_signal_handler();
    _exit(130);
  }
}

struct RenderArgs {
  std::vector<std::string> inputs;
  std::string output;
  std::string out_dir;
  // The settings of the schema (pipeline/settings_schema.h) as typed, by API name.
  std::map<std::string, std::string, std::less<>> settings;
  bool no_normalize = false;
  bool keep_tail = false;
  unsigned jobs = 1;
  std::string progress = "auto";
  bool force = false;
  double max_duration = 30 * 60;
  std::int64_t max_size = 200LL * 1024 * 1024;
  std::string sofa;
  bool bypass = false;
  std::size_t block = 1024;
};

// Audio extensions picked up when an input is a folder.
const std::set<std::string> kAudioExtensions = {".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                                                ".aif", ".aiff", ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".wma"};

struct Task {
  std::string input;
  std::string output;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Expands folders into the audio files inside them and names each output.
std::vector<Task> plan_tasks(const RenderArgs& a, io::OutputFormat format) {
  std::vector<Task> tasks;
  auto out_name = [&](const fs::path& input, const fs::path& relative_dir) {
    fs::path dir = fs::path(a.out_dir) / relative_dir;
    return (dir / (input.stem().string() + " (8D)" + io::format_extension(format))).string();
  };
  for (const std::string& in : a.inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      if (!a.output.empty()) throw base::UsageError("a folder as input needs --out-dir, not -o (" + in + ")");
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (it->is_regular_file(ec) && kAudioExtensions.count(lower(it->path().extension().string())))
          found.push_back(it->path());
      }
      std::sort(found.begin(), found.end());
      for (const fs::path& p : found)
        tasks.push_back({p.string(), out_name(p, fs::relative(p.parent_path(), in, ec))});
    } else if (!a.output.empty()) {
      tasks.push_back({in, a.output});
    } else {
      tasks.push_back({in, out_name(fs::path(in), fs::path())});
    }
  }
  std::set<std::string> outputs;
  for (const Task& t : tasks)
    if (!outputs.insert(fs::weakly_canonical(t.output).string()).second)
      throw base::UsageError("two inputs would write the same output: " + t.output);
  return tasks;
}

// Each setting given on the command line, as the schema's JSON value (numbers parsed here so a
// typo is named by its flag), applied through the same code as the API's settings.
pipeline::RenderOptions make_options(const RenderArgs& a, CLI::App& cmd, io::OutputFormat format) {
  nlohmann::json values = nlohmann::json::object();
  for (const pipeline::SettingSpec& spec : pipeline::setting_specs()) {
    if (spec.kind == pipeline::SettingKind::kFormat) continue;  // chosen with -o's extension below
    if (cmd.get_option(std::string(spec.flag))->count() == 0) continue;
    const std::string& text = a.settings.at(std::string(spec.json));
    if (spec.kind == pipeline::SettingKind::kCurve) {
      try {
        values["curves"][std::string(spec.engine->curve_key())] = pipeline::parse_curve_text(text, spec.flag);
      } catch (const std::invalid_argument& e) {
        throw base::UsageError(e.what());
      }
    } else if (spec.is_number()) {
      double v = 0;
      const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc{} || r.ptr != text.data() + text.size())
        throw base::UsageError(std::string(spec.flag) + " must be a number (got '" + text + "')");
      values[std::string(spec.json)] = v;
    } else {
      values[std::string(spec.json)] = text;
    }
  }
  values["format"] = io::format_name(format);
  pipeline::RenderOptions o;
  try {
    pipeline::apply_settings(values, pipeline::SettingNames::kFlag, &o);
  } catch (const std::invalid_argument& e) {
    throw base::UsageError(e.what());
  }
  o.limits.max_bytes = a.max_size;
  o.limits.max_duration_seconds = a.max_duration;
  o.keep_tail = a.keep_tail;
  o.normalize = !a.no_normalize && !a.bypass;
  o.gain_only = a.bypass;
  o.overwrite = a.force;
  o.block_frames = a.block;
  o.sofa_path = a.sofa;
  return o;
}

io::OutputFormat choose_format(const RenderArgs& a, CLI::App& cmd) {
  io::OutputFormat from_flag = io::OutputFormat::kMp3;
  const bool flag = cmd.get_option("--format")->count() > 0;
  if (flag) from_flag = io::parse_format(a.settings.at("format"));
  if (!a.output.empty()) {
    io::OutputFormat from_name;
    if (io::format_from_path(a.output, &from_name)) {
      if (flag && from_name != from_flag)
        throw base::UsageError("the output name ends in " + fs::path(a.output).extension().string() + " but --format is " +
                         io::format_name(from_flag));
      return from_name;
    }
  }
  return from_flag;
}

// Where FFTW's measured plans are kept between runs: $SY_CACHE_DIR (empty: nowhere), else
// $XDG_CACHE_HOME/surroundyou, else ~/.cache/surroundyou.
std::string wisdom_path() {
  fs::path dir;
  if (const char* own = std::getenv("SY_CACHE_DIR")) {
    if (*own == '\0') return {};
    dir = own;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    dir = fs::path(xdg) / "surroundyou";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    dir = fs::path(home) / ".cache" / "surroundyou";
  } else {
    return {};
  }
  return (dir / "fftw-wisdom").string();
}

ProgressMode choose_progress(const std::string& mode) {
  if (mode == "bar") return ProgressMode::kBar;
  if (mode == "json") return ProgressMode::kJson;
  if (mode == "none") return ProgressMode::kNone;
  return isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kNone;
}

int run_render(const RenderArgs& a, CLI::App& cmd) {
  io::OutputFormat format;
  pipeline::RenderOptions options;
  std::vector<Task> tasks;
  try {
    if (a.output.empty() == a.out_dir.empty()) throw base::UsageError("give either -o OUTPUT or --out-dir DIR");
    if (!a.output.empty() && a.inputs.size() > 1) throw base::UsageError("-o takes one input; use --out-dir for several");
    format = choose_format(a, cmd);
    options = make_options(a, cmd, format);
    if (!a.out_dir.empty()) fs::create_directories(a.out_dir);
    tasks = plan_tasks(a, format);
    if (tasks.empty()) throw base::UsageError("no audio files found in the given folders");
  } catch (const base::UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  ProgressDisplay display(choose_progress(a.progress), tasks.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> any_bad_input{false}, any_failure{false};

  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= tasks.size() || g_cancel.load()) return;
      const Task& t = tasks[i];
      display.started(i, t.input);
      try {
        if (!a.force && fs::exists(t.output))
          throw std::runtime_error("output exists, use --force to overwrite: " + t.output);
        fs::path parent = fs::path(t.output).parent_path();
        if (!a.out_dir.empty() && !parent.empty()) fs::create_directories(parent);
        pipeline::RenderResult r = pipeline::render_file(t.input, t.output, options,
                                     [&display, i](const pipeline::Progress& p) { display.update(i, p); }, &g_cancel);
        for (const std::string& w : r.warnings) display.error_line("warning: " + w + " (" + t.input + ")");
        display.finished(i, t.output, r);
      } catch (const base::InputError& e) {
        any_bad_input = true;
        display.failed(i, e.what(), kExitBadInput);
        display.error_line("error: " + std::string(e.what()) + " (" + t.input + ")");
      } catch (const base::Cancelled&) {
        display.failed(i, "cancelled", 130);
        return;
      } catch (const std::exception& e) {
        any_failure = true;
        display.failed(i, e.what(), kExitFailure);
        display.error_line("error: " + std::string(e.what()) + " (" + t.input + ")");
      }
    }
  };
  // Files rendered with the same settings share one binaural filter design.
  engine::BinauralFilterCache filter_cache;
  options.filter_cache = &filter_cache;
  const std::string wisdom = a.bypass ? std::string() : wisdom_path();
  if (!wisdom.empty()) engine::import_fftw_wisdom(wisdom);
  const unsigned jobs = std::max(1u, std::min<unsigned>(a.jobs, static_cast<unsigned>(tasks.size())));
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  display.close();
  if (!wisdom.empty()) engine::export_fftw_wisdom(wisdom);

  if (g_cancel.load()) {
    std::fprintf(stderr, "interrupted: no partial output was left behind\n");
    return 130;
  }
  if (any_failure) return kExitFailure;
  if (any_bad_input) return kExitBadInput;
  return kExitOk;
}

}  // namespace

void add_render_command(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("render", "Turn songs into 8D audio");
  cmd->footer(
      "Examples:\n"
      "  surroundyou render song.mp3 -o song-8d.mp3\n"
      "  surroundyou render album/ --out-dir album-8d --format flac --jobs 2\n"
      "  surroundyou render song.flac -o slow.m4a --preset slowed-reverb\n"
      "Settings start from the preset (see `surroundyou presets`); each option overrides one value.\n"
      "FFT plans are kept in ~/.cache/surroundyou/fftw-wisdom to start faster next time\n"
      "(SY_CACHE_DIR=DIR keeps them in DIR; SY_CACHE_DIR= keeps none).\n");
  auto a = std::make_shared<RenderArgs>();
  cmd->add_option("INPUT", a->inputs, "Audio files or folders to convert")->required();
  auto* group_out = cmd->add_option_group("output");
  group_out->add_option("-o,--output", a->output, "Output file (one input only)");
  group_out->add_option("--out-dir", a->out_dir, "Write '<name> (8D).<ext>' files into this folder");

  // Sound and encoding options come from the settings schema: flag, help, range.
  auto* sound = cmd->add_option_group("sound", "Each overrides the preset's value");
  auto* enc = cmd->add_option_group("encoding");
  for (const pipeline::SettingSpec& spec : pipeline::setting_specs()) {
    std::string help = std::string(spec.help) + " [" + pipeline::range_text(spec) + "]";
    auto* group = spec.group == "encoding" ? enc : sound;
    auto* option = group->add_option(std::string(spec.flag), a->settings[std::string(spec.json)], help);
    option->type_name(spec.is_number()                                ? "NUMBER"
                      : spec.kind == pipeline::SettingKind::kBitrate ? "RATE"
                      : spec.kind == pipeline::SettingKind::kCurve   ? "KEYFRAMES"
                                                                     : "NAME");
    if (spec.kind == pipeline::SettingKind::kPreset) option->default_str("classic");
  }
  sound->add_flag("--no-normalize", a->no_normalize, "Skip loudness normalisation and the limiter");
  sound->add_flag("--keep-tail", a->keep_tail, "Let the room ring out past the song's end");

  auto* run = cmd->add_option_group("running");
  run->add_option("--jobs,-j", a->jobs, "Files rendered in parallel")->capture_default_str()->check(CLI::Range(1, 256));
  run->add_option("--progress", a->progress, "auto (bar on a terminal), bar, json (one object per line) or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bar", "json", "none"}));
  run->add_flag("--force,-f", a->force, "Overwrite existing outputs");
  run->add_option("--max-duration", a->max_duration, "Refuse inputs longer than this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run->add_option("--max-size", a->max_size, "Refuse inputs larger than this many bytes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  run->add_option("--sofa", a->sofa, "HRTF set in SOFA format (default: MIT KEMAR from libmysofa)");
  run->add_option("--block-size", a->block, "Frames per processing block")->group("")->check(CLI::Range(16, 65536));
  run->add_flag("--bypass", a->bypass, "Skip the 8D engine (plain transcode; for benchmarks)")->group("");

  cmd->callback([a, cmd, &ctx] { ctx.exit_code = run_render(*a, *cmd); });
}

}  // namespace sy::cli
