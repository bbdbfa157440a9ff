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
#include "cli/render_processes.h"
#include "engine/convolver.h"
#include "engine/filter_cache.h"
#include "engine/presets.h"
#include "base/errors.h"
#include "base/sizes.h"
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
    _exit(kExitInterrupted);
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
  std::string max_size = "200M";
  // --preview [SECONDS]: empty when not given; "" inside when given without a value.
  std::vector<std::string> preview;
  std::string start, end;
  bool dry_run = false;
  std::string sofa;
  bool bypass = false;
  std::size_t block = 1024;
};

// Audio extensions picked up when an input is a folder.
const std::set<std::string> kAudioExtensions = {".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                                                ".aif", ".aiff", ".mp4", ".m4v", ".mkv", ".webm", ".mov", ".wma"};

constexpr double kDefaultPreviewSeconds = 30;

struct Task {
  std::string input;
  std::string output;
  io::OutputFormat format;
  std::string skip;  // why it is not rendered ("exists", "an 8D output"); empty: render it
};

// Which inputs keep their own container: all (--format keep), videos (the default when the
// names are ours to choose: a video stays a video), or none (-o or --format named one).
enum class Keep { kNone, kVideos, kAll };

// The format `input` is written in under `keep` (an excerpt of a video is audio: the picture
// is not cut). A file that cannot be read gets `format`; its render then reports why.
io::OutputFormat format_for(const std::string& input, io::OutputFormat format, Keep keep,
                            const pipeline::RenderOptions& options) {
  if (keep == Keep::kNone) return format;
  try {
    pipeline::RenderOptions o = options;
    o.keep_format = true;
    const io::OutputFormat kept = pipeline::output_format(input, o);
    if (keep == Keep::kAll || io::format_info(kept).video) return kept;
  } catch (const std::exception&) {
  }
  return format;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

constexpr std::string_view kSuffix = " (8D)";
constexpr std::string_view kPreviewSuffix = " (8D preview)";

// A file we wrote ("song (8D).mp3", "song (8D preview).m4a") or are writing (".song
// (8D).mp3.part-x"): never an input when names are chosen for the user.
bool is_our_output(const fs::path& p) {
  const std::string stem = p.stem().string();
  auto ends_with = [&](std::string_view suffix) {
    return stem.size() >= suffix.size() && stem.compare(stem.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends_with(kSuffix) || ends_with(kPreviewSuffix);
}

bool is_under(const fs::path& p, const fs::path& folder) {
  if (folder.empty()) return false;
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(p, ec), b = fs::weakly_canonical(folder, ec);
  auto [mismatch, rest] = std::mismatch(b.begin(), b.end(), a.begin(), a.end());
  return mismatch == b.end();
}

// Expands folders into the audio files inside them, names each output, and marks what is
// skipped. Never an input under the output folder, never one of our outputs when the names
// are ours to choose, and never an output that is an input (even with --force).
std::vector<Task> plan_tasks(const RenderArgs& a, io::OutputFormat format, Keep keep, bool preview,
                             const pipeline::RenderOptions& options) {
  std::vector<Task> tasks;
  const std::string suffix(preview ? kPreviewSuffix : kSuffix);
  auto task = [&](const fs::path& input, const fs::path& relative_dir, std::string skip) {
    const io::OutputFormat f = format_for(input.string(), format, keep, options);
    const fs::path dir = a.out_dir.empty() ? input.parent_path() : (fs::path(a.out_dir) / relative_dir).lexically_normal();
    return Task{input.string(), (dir / (input.stem().string() + suffix + io::format_extension(f))).string(), f,
                std::move(skip)};
  };
  for (const std::string& in : a.inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      if (!a.output.empty()) throw base::UsageError("a folder as input needs --out-dir, not -o (" + in + ")");
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
           it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        const fs::path& p = it->path();
        // Hidden entries (our own temporary files among them) and the output folder stay out.
        if (p.filename().string().starts_with(".") || is_under(p, a.out_dir)) {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec) && kAudioExtensions.count(lower(p.extension().string())) && !is_our_output(p))
          found.push_back(p);
      }
      std::sort(found.begin(), found.end());
      for (const fs::path& p : found) tasks.push_back(task(p, fs::relative(p.parent_path(), in, ec), ""));
    } else if (!a.output.empty()) {
      tasks.push_back({in, a.output, format, ""});
    } else {
      tasks.push_back(task(fs::path(in), fs::path(), is_our_output(in) ? "an 8D output" : ""));
    }
  }
  std::set<std::string> outputs;
  for (const Task& t : tasks)
    if (t.skip.empty() && !outputs.insert(fs::weakly_canonical(t.output).string()).second)
      throw base::UsageError("two inputs would write the same output: " + t.output);
  // Of the inputs that will be read: a skipped one (our own output) may be the target.
  std::set<std::string> inputs;
  for (const Task& t : tasks)
    if (t.skip.empty()) inputs.insert(fs::weakly_canonical(t.input).string());
  for (const Task& t : tasks) {
    if (!t.skip.empty()) continue;
    std::error_code ec;
    // A hard link or a second spelling of an input is the input too.
    const bool same_file = std::any_of(tasks.begin(), tasks.end(), [&](const Task& other) {
      return other.skip.empty() && fs::equivalent(t.output, other.input, ec);
    });
    if (inputs.count(fs::weakly_canonical(t.output, ec).string()) || same_file)
      throw base::UsageError("the output would replace an input, which is never done, not even with --force: " +
                             t.output);
  }
  for (Task& t : tasks) {
    std::error_code ec;
    if (t.skip.empty() && !a.force && fs::exists(t.output, ec)) t.skip = "exists";
  }
  return tasks;
}

// Each setting given on the command line, as the schema's JSON value (numbers parsed here so a
// typo is named by its flag), applied through the same code as the API's settings.
pipeline::RenderOptions make_options(const RenderArgs& a, CLI::App& cmd, io::OutputFormat format) {
  nlohmann::json values = nlohmann::json::object();
  for (const pipeline::SettingSpec& spec : pipeline::setting_specs()) {
    if (spec.kind == pipeline::SettingKind::kFormat) continue;  // chosen with -o's extension below
    if (spec.kind == pipeline::SettingKind::kPreview) continue;  // the API's; no flag of its own
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
  const std::optional<std::int64_t> max_size = base::parse_size(a.max_size);
  if (!max_size) throw base::UsageError("--max-size must be a size like 200M or 1.5G (got '" + a.max_size + "')");
  o.limits.max_bytes = *max_size;
  o.limits.max_duration_seconds = a.max_duration;
  o.keep_tail = a.keep_tail;
  o.normalize = !a.no_normalize && !a.bypass;
  o.gain_only = a.bypass;
  o.overwrite = a.force;
  o.block_frames = a.block;
  o.sofa_path = a.sofa;
  return o;
}

io::OutputFormat choose_format(const RenderArgs& a, CLI::App& cmd, Keep* keep) {
  io::OutputFormat from_flag = io::OutputFormat::kMp3;
  const bool flag = cmd.get_option("--format")->count() > 0;
  const bool keep_flag = flag && a.settings.at("format") == "keep";
  *keep = keep_flag ? Keep::kAll : flag || !a.output.empty() ? Keep::kNone : Keep::kVideos;
  if (keep_flag && !a.output.empty())
    throw base::UsageError("--format keep names the output after each input; use --out-dir or no -o");
  if (flag && !keep_flag) from_flag = io::parse_format(a.settings.at("format"));
  if (a.output.empty()) return from_flag;
  const std::string extension = fs::path(a.output).extension().string();
  io::OutputFormat from_name;
  if (io::format_from_path(a.output, &from_name)) {
    if (flag && from_name != from_flag)
      throw base::UsageError("the output name ends in " + extension + " but --format is " + io::format_name(from_flag));
    return from_name;
  }
  if (extension.empty() && flag) return from_flag;
  std::string known;
  for (const io::FormatInfo& f : io::output_formats()) known += (known.empty() ? "" : ", ") + std::string(f.extension);
  throw base::UsageError((extension.empty() ? "the output name has no extension"
                                            : "the output name ends in " + extension + ", which is no format we write") +
                         "; end it in one of " + known + " (or give --format)");
}

// --preview [SECONDS], --start and --end as the pipeline's excerpt. --preview may swallow the
// next word when it is no number: that word is an input.
pipeline::Excerpt choose_excerpt(RenderArgs& a, CLI::App& cmd) {
  pipeline::Excerpt e;
  auto time_of = [](const std::string& text, const char* flag) {
    try {
      return pipeline::parse_time(text, flag);
    } catch (const std::invalid_argument& err) {
      throw base::UsageError(err.what());
    }
  };
  const bool has_start = cmd.get_option("--start")->count() > 0;
  const bool has_end = cmd.get_option("--end")->count() > 0;
  if (has_start) e.start_seconds = time_of(a.start, "--start");
  if (cmd.get_option("--preview")->count() > 0) {
    double seconds = kDefaultPreviewSeconds;
    const std::string value = a.preview.empty() ? std::string() : a.preview.front();
    if (!value.empty()) {
      const bool number = value.find_first_not_of("0123456789.:") == std::string::npos;
      if (number) seconds = time_of(value, "--preview");
      else a.inputs.insert(a.inputs.begin(), value);
    }
    if (!(seconds > 0)) throw base::UsageError("--preview must be longer than 0 seconds");
    if (has_end) throw base::UsageError("--preview sets the length: give it --start, or --start and --end without it");
    e.length_seconds = seconds;
    e.from_loudest = !has_start;
    return e;
  }
  if (has_end) {
    const double end = time_of(a.end, "--end");
    if (end <= e.start_seconds)
      throw base::UsageError("--end (" + pipeline::time_text(end) + ") must come after --start (" +
                             pipeline::time_text(e.start_seconds) + ")");
    e.length_seconds = end - e.start_seconds;
  }
  return e;
}

ProgressMode choose_progress(const std::string& mode) {
  if (mode == "bar") return ProgressMode::kBar;
  if (mode == "json") return ProgressMode::kJson;
  if (mode == "none") return ProgressMode::kNone;
  return isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kNone;
}

// --dry-run: what would be written, and what skipped, without touching anything.
void print_plan(const std::vector<Task>& tasks, ProgressMode mode) {
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const Task& t = tasks[i];
    if (mode == ProgressMode::kJson) {
      nlohmann::json j{{"event", "planned"}, {"index", i}, {"input", t.input}, {"output", t.output},
                       {"action", t.skip.empty() ? "render" : "skip"}};
      if (!t.skip.empty()) j["reason"] = t.skip;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else if (t.skip.empty()) {
      std::printf("%s → %s\n", t.input.c_str(), t.output.c_str());
    } else {
      std::printf("%s → %s (skipped: %s)\n", t.input.c_str(), t.output.c_str(), t.skip.c_str());
    }
  }
}

int run_render(RenderArgs a, CLI::App& cmd) {
  io::OutputFormat format;
  pipeline::RenderOptions options;
  std::vector<Task> tasks;
  const ProgressMode mode = choose_progress(a.progress);
  try {
    const pipeline::Excerpt excerpt = choose_excerpt(a, cmd);
    if (a.inputs.empty()) throw base::UsageError("name at least one song or folder to convert");
    if (!a.output.empty() && !a.out_dir.empty()) throw base::UsageError("give -o OUTPUT or --out-dir DIR, not both");
    if (!a.output.empty() && a.inputs.size() > 1) throw base::UsageError("-o takes one input; use --out-dir for several");
    Keep keep = Keep::kNone;
    format = choose_format(a, cmd, &keep);
    options = make_options(a, cmd, format);
    options.excerpt = excerpt;
    tasks = plan_tasks(a, format, keep, cmd.get_option("--preview")->count() > 0, options);
    if (tasks.empty()) throw base::UsageError("no audio files found in the given folders");
    if (a.dry_run) {
      print_plan(tasks, mode);
      return kExitOk;
    }
    if (!a.out_dir.empty()) {
      std::error_code ec;
      fs::create_directories(a.out_dir, ec);
      if (ec) {
        std::fprintf(stderr, "error: cannot create the output folder: %s (%s)\n", ec.message().c_str(), a.out_dir.c_str());
        return kExitFailure;
      }
    }
  } catch (const base::UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitFailure;
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);

  ProgressDisplay display(mode, tasks.size(), !options.excerpt.whole_song());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> any_bad_input{false}, any_failure{false};

  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= tasks.size() || g_cancel.load()) return;
      const Task& t = tasks[i];
      if (!t.skip.empty()) {
        display.skipped(i, t.input, t.output, t.skip);
        continue;
      }
      display.started(i, t.input, t.output);
      try {
        fs::path parent = fs::path(t.output).parent_path();
        std::error_code ec;
        if (!a.out_dir.empty() && !parent.empty() && (fs::create_directories(parent, ec), ec))
          throw std::runtime_error("cannot create the output folder " + parent.string() + ": " + ec.message());
        pipeline::RenderOptions task_options = options;
        task_options.encode.format = t.format;
        pipeline::RenderResult r = pipeline::render_file(t.input, t.output, task_options,
                                     [&display, i](const pipeline::Progress& p) { display.update(i, p); }, &g_cancel);
        for (const std::string& w : r.warnings) display.warned(t.input, w);
        display.finished(i, t.input, t.output, r);
      } catch (const base::InputError& e) {
        any_bad_input = true;
        display.failed(i, t.input, e.what(), kExitBadInput);
      } catch (const base::Cancelled&) {
        return;
      } catch (const std::exception& e) {
        any_failure = true;
        display.failed(i, t.input, e.what(), kExitFailure);
      }
    }
  };
  // Files rendered with the same settings share one binaural filter design.
  engine::BinauralFilterCache filter_cache;
  options.filter_cache = &filter_cache;
  const std::string wisdom = a.bypass ? std::string() : fftw_wisdom_path();
  if (!wisdom.empty()) engine::import_fftw_wisdom(wisdom);
  if (!a.bypass) filter_cache.keep_on_disk(filter_store_dir());
  const unsigned jobs = std::max(1u, std::min<unsigned>(a.jobs, static_cast<unsigned>(tasks.size())));
  std::vector<std::thread> pool;
  for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (!wisdom.empty()) engine::export_fftw_wisdom(wisdom);

  const bool interrupted = g_cancel.load();
  const int status = interrupted ? kExitInterrupted
                     : any_failure ? kExitFailure
                     : any_bad_input ? kExitBadInput
                                     : kExitOk;
  display.summary(status, interrupted);
  if (interrupted) std::fprintf(stderr, "interrupted: no partial output was left behind\n");
  return status;
}

}  // namespace

void add_render_command(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("render", "Turn songs into 8D audio");
  // One paragraph a line: the help formatter wraps them to the terminal.
  cmd->footer(
      "Without -o or --out-dir each output is written beside its input as '<name> (8D).<ext>' "
      "(previews: '<name> (8D preview).<ext>'). Outputs that exist are skipped unless --force; "
      "an input is never overwritten, and our own outputs are never taken as inputs.\n"
      "After each file a line reports what was measured on the delivered file: loudness (LUFS), "
      "true peak (dBTP), loudness range (LU), left/right correlation and rotation depth (dB).\n"
      "Examples:\n"
      "  surroundyou render song.mp3                 (writes 'song (8D).mp3')\n"
      "  surroundyou render song.mp3 --preview       (30 s from the loudest part)\n"
      "  surroundyou render song.mp3 -o song-8d.mp3 --start 0:30 --end 2:45\n"
      "  surroundyou render album/ --out-dir album-8d --format flac --jobs 2\n"
      "  surroundyou render song.flac -o slow.m4a --preset slowed-reverb\n"
      "Exit status: 0 success (skipped files included), 2 usage error, 3 input unreadable, "
      "unsupported or over a limit, 1 other failure, 130 interrupted (Ctrl-C).\n"
      "Settings start from the preset (see `surroundyou presets`); each option overrides one value.\n"
      "FFT plans and designed filters are kept in ~/.cache/surroundyou to start faster next time "
      "(SY_CACHE_DIR=DIR keeps them in DIR; SY_CACHE_DIR= keeps none).");
  auto a = std::make_shared<RenderArgs>();
  // Not required here: `--preview song.mp3` hands the input over through --preview.
  cmd->add_option("INPUT", a->inputs, "Audio files or folders to convert");
  auto* group_out = cmd->add_option_group("output");
  group_out->add_option("-o,--output", a->output, "Output file (one input only; default: '<name> (8D).<ext>' beside it)")
      ->option_text("FILE");
  group_out->add_option("--out-dir", a->out_dir, "Write '<name> (8D).<ext>' files into this folder (made if missing)")
      ->option_text("DIR");
  group_out->add_flag("--dry-run", a->dry_run, "List what would be written (and skipped), write nothing");

  auto* part = cmd->add_option_group("part of the song", "Times are seconds or m:ss, in the song's own time");
  part->add_option("--preview", a->preview,
                   "Render SECONDS (default 30) from the loudest part, or from --start; "
                   "named '<name> (8D preview).<ext>'")
      ->expected(0, 1)
      ->type_name("[SECONDS]");
  part->add_option("--start", a->start, "Begin at this time")->type_name("TIME");
  part->add_option("--end", a->end, "Stop at this time")->type_name("TIME");

  // Sound and encoding options come from the settings schema: flag, help, range.
  auto* sound = cmd->add_option_group("sound", "Each overrides the preset's value");
  auto* enc = cmd->add_option_group("encoding");
  for (const pipeline::SettingSpec& spec : pipeline::setting_specs()) {
    if (spec.kind == pipeline::SettingKind::kPreview) continue;  // the API's settings.preview
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
  run->add_option("--jobs,-j", a->jobs, "Files rendered in parallel, 1 to 256 (default 1)")
      ->check(CLI::Range(1, 256))
      ->option_text("N");
  run->add_option("--progress", a->progress,
                  "auto (default: bars on a terminal, else none), bar, json (one object per line on stdout) or none")
      ->check(CLI::IsMember({"auto", "bar", "json", "none"}))
      ->option_text("MODE");
  run->add_flag("--force,-f", a->force, "Render again outputs that exist (an input is never overwritten)");
  run->add_option("--max-duration", a->max_duration, "Refuse inputs longer than this many seconds (default 1800)")
      ->check(CLI::PositiveNumber)
      ->option_text("SECONDS");
  run->add_option("--max-size", a->max_size,
                  "Refuse inputs larger than this: 200M (the default), 1.5G, 512k (1k = 1024 bytes) or bytes")
      ->option_text("SIZE");
  run->add_option("--sofa", a->sofa, "HRTF set in SOFA format (default: MIT KEMAR from libmysofa)")->option_text("FILE");
  run->add_option("--block-size", a->block, "Frames per processing block")->group("")->check(CLI::Range(16, 65536));
  run->add_flag("--bypass", a->bypass, "Skip the 8D engine (plain transcode; for benchmarks)")->group("");

  cmd->callback([a, cmd, &ctx] { ctx.exit_code = run_render(*a, *cmd); });
}

}  // namespace sy::cli
