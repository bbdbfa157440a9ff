#include "cli/progress_display.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/times.h"
#include "cli/terminal_text.h"
#include "pipeline/file_report.h"

namespace sy::cli {

namespace {

// Elapsed and remaining time in whole seconds ("--:--" while unknown).
std::string clock_text(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "--:--";
  return base::time_text(std::round(seconds));
}

std::string bar(double fraction, int width) {
  const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
  std::string s;
  for (int i = 0; i < width; ++i) s += i < filled ? "█" : "░";
  return s;
}

__attribute__((format(printf, 1, 2))) std::string format(const char* pattern, ...) {
  char buf[96];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(buf, sizeof buf, pattern, args);
  va_end(args);
  return buf;
}

void json_line(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

// One progress line in at most `columns`: the name and the bar share what the figures leave.
std::string progress_line(const std::string& name, double fraction, const std::vector<std::string>& tails,
                          int columns) {
  constexpr int kMinBar = 6, kMaxBar = 24, kMinName = 8, kMaxName = 28;
  for (const std::string& tail : tails) {
    const int room = columns - 2 - 1 - display_width(tail);  // indent, space before the bar
    if (room < kMinBar + kMinName && &tail != &tails.back()) continue;
    if (room < kMinBar + 1) return fit("  " + name + tail, columns);
    const int bar_width = std::clamp(room * 2 / 5, kMinBar, kMaxBar);
    const int name_width = std::min(room - bar_width, kMaxName);
    return "  " + fit_padded(name, name_width) + " " + bar(fraction, bar_width) + tail;
  }
  return {};
}

}  // namespace

std::vector<std::string> report_lines(const std::string& output, const pipeline::RenderResult& r, bool excerpt,
                                      int columns) {
  const pipeline::FileReport& m = r.report;
  std::vector<std::string> items{"✓ " + output + ":"};
  if (std::isfinite(m.integrated_lufs)) {
    items.push_back(format("%.1f LUFS", m.integrated_lufs));
    items.push_back(format("peak %.1f dBTP", m.true_peak_dbtp));
  } else {
    items.push_back("silent");
  }
  items.push_back(format("range %.1f LU", m.loudness_range_lu));
  items.push_back(format("correlation %.2f", m.correlation));
  items.push_back(format("rotation %.1f dB", m.rotation_depth_db));
  std::string length = clock_text(r.duration_seconds);
  if (excerpt) length += " from " + pipeline::time_text(r.excerpt_start_seconds);
  items.push_back(length);
  if (r.tempo_bpm > 0) items.push_back(format("%.0f BPM", r.tempo_bpm));
  const double rtf = r.wall_seconds > 0 ? r.duration_seconds / r.wall_seconds : 0;
  items.push_back(format("%.1f s (%.0f× real time)", r.wall_seconds, rtf));
  // "✓ name: figure, figure, ..." wrapped between figures where the terminal is narrow.
  for (std::size_t i = 1; i + 1 < items.size(); ++i) items[i] += ",";
  std::vector<std::string> lines = wrap_items(items, " ", "    ", columns);
  return lines;
}

ProgressDisplay::ProgressDisplay(ProgressMode mode, std::size_t total_files, bool excerpt)
    : mode_(mode), total_files_(total_files), excerpt_(excerpt), start_(std::chrono::steady_clock::now()) {
  if (mode_ == ProgressMode::kBar) thread_ = std::thread([this] { loop(); });
}

ProgressDisplay::~ProgressDisplay() { close(); }

void ProgressDisplay::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == ProgressMode::kBar) {
    clear_bars_locked();
    std::fflush(stderr);
  }
}

void ProgressDisplay::started(std::size_t index, const std::string& input, const std::string& output) {
  std::lock_guard<std::mutex> lock(mu_);
  active_[index] = FileState{input, std::filesystem::path(input).filename().string(), pipeline::Progress{}};
  if (mode_ == ProgressMode::kJson)
    json_line({{"event", "start"}, {"index", index}, {"input", input}, {"output", output}});
}

void ProgressDisplay::update(std::size_t index, const pipeline::Progress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(index);
  if (it == active_.end()) return;
  it->second.progress = p;
  if (mode_ == ProgressMode::kJson && p.stage != pipeline::Stage::kDone) {
    json_line({{"event", "progress"},
               {"index", index},
               {"input", it->second.input},
               {"stage", pipeline::stage_name(p.stage)},
               {"progress", std::round(p.fraction * 1000) / 1000},
               {"realtime_factor", std::round(p.realtime_factor * 10) / 10},
               {"eta_seconds", p.eta_seconds < 0 ? nlohmann::json() : nlohmann::json(std::round(p.eta_seconds * 10) / 10)}});
  }
}

void ProgressDisplay::finished(std::size_t index, const std::string& input, const std::string& output,
                               const pipeline::RenderResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(index);
  ++done_files_;
  ++converted_;
  const double rtf = r.wall_seconds > 0 ? r.duration_seconds / r.wall_seconds : 0;
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json done{{"event", "done"},
                        {"index", index},
                        {"input", input},
                        {"output", output},
                        {"duration_seconds", r.duration_seconds},
                        {"bytes", r.bytes},
                        {"wall_seconds", r.wall_seconds},
                        {"realtime_factor", rtf},
                        {"gain_db", r.output_gain_db},
                        {"report", pipeline::report_json(r.report, engine::SettingNames::kFlag)}};
    if (r.tempo_bpm > 0) done["tempo_bpm"] = std::round(r.tempo_bpm * 10) / 10;
    if (!r.motion_note.empty()) done["note"] = r.motion_note;
    if (excerpt_) done["excerpt_start_seconds"] = std::round(r.excerpt_start_seconds * 100) / 100;
    json_line(done);
    return;
  }
  std::vector<std::string> lines = report_lines(output, r, excerpt_, terminal_columns(stdout));
  if (!r.motion_note.empty()) lines.push_back("    note: " + r.motion_note);
  print_locked(lines);
}

void ProgressDisplay::skipped(std::size_t index, const std::string& input, const std::string& output,
                              const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++done_files_;
  ++skipped_;
  if (mode_ == ProgressMode::kJson) {
    json_line({{"event", "skipped"}, {"index", index}, {"input", input}, {"output", output}, {"reason", reason}});
    return;
  }
  const int columns = terminal_columns(stdout);
  print_locked(wrap_items({"- " + (reason == "exists" ? output : input) + ":", "skipped: " + reason}, " ", "    ",
                          columns));
}

void ProgressDisplay::failed(std::size_t index, const std::string& input, const std::string& message, int exit_code) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(index);
  ++done_files_;
  failures_.push_back({input, message});
  if (mode_ == ProgressMode::kJson)
    json_line({{"event", "error"}, {"index", index}, {"input", input}, {"message", message}, {"exit_code", exit_code}});
  clear_bars_locked();
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s (%s)\n", message.c_str(), input.c_str());
  std::fflush(stderr);
  redraw_locked();
}

void ProgressDisplay::warned(const std::string& input, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  clear_bars_locked();
  std::fflush(stdout);
  std::fprintf(stderr, "warning: %s (%s)\n", message.c_str(), input.c_str());
  std::fflush(stderr);
  redraw_locked();
}

void ProgressDisplay::summary(int exit_code, bool interrupted) {
  close();
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == ProgressMode::kJson) {
    nlohmann::json failures = nlohmann::json::array();
    for (const Failure& f : failures_) failures.push_back({{"input", f.input}, {"message", f.message}});
    json_line({{"event", "summary"},
               {"converted", converted_},
               {"skipped", skipped_},
               {"failed", failures_.size()},
               {"interrupted", interrupted},
               {"failures", failures},
               {"exit_code", exit_code}});
    return;
  }
  if (total_files_ < 2) return;
  const int columns = terminal_columns(stdout);
  std::vector<std::string> lines{std::to_string(converted_) + " converted, " + std::to_string(skipped_) +
                                 " skipped, " + std::to_string(failures_.size()) + " failed" +
                                 (interrupted ? " (interrupted)" : "")};
  for (const Failure& f : failures_)
    for (std::string& line : wrap_items({"  failed: " + f.input + ":", f.message}, " ", "    ", columns))
      lines.push_back(std::move(line));
  print_locked(lines);
}

void ProgressDisplay::print_locked(const std::vector<std::string>& lines) {
  clear_bars_locked();
  std::fflush(stderr);
  for (const std::string& line : lines) std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
  redraw_locked();
}

void ProgressDisplay::clear_bars_locked() {
  if (mode_ != ProgressMode::kBar) return;
  for (std::size_t i = 0; i < drawn_lines_; ++i) std::fputs("\x1b[1A\x1b[2K", stderr);
  if (drawn_lines_ > 0) std::fputs("\r", stderr);
  drawn_lines_ = 0;
}

void ProgressDisplay::redraw_locked() {
  if (mode_ != ProgressMode::kBar || stop_) return;
  clear_bars_locked();
  // One column spare: a line that fills the last column leaves some terminals about to wrap.
  const int width = terminal_columns(stderr);
  const int columns = (width > 0 ? width : 80) - 1;
  std::ostringstream out;
  std::size_t lines = 0;
  double active_fraction = 0;
  for (const auto& [index, f] : active_) {
    const pipeline::Progress& p = f.progress;
    active_fraction += p.fraction;
    const std::string stage = pipeline::stage_name(p.stage);
    const std::string percent = format(" %3.0f%%", p.fraction * 100);
    const std::vector<std::string> tails{
        percent + "  " + fit_padded(stage, 9) + format(" %5.1f×", p.realtime_factor) + "  ETA " +
            clock_text(p.eta_seconds),
        percent + " " + fit_padded(stage, 9) + " ETA " + clock_text(p.eta_seconds), percent};
    out << progress_line(f.name, p.fraction, tails, columns) << "\n";
    ++lines;
  }
  if (total_files_ > 1 || lines == 0) {
    const double overall = total_files_ ? (static_cast<double>(done_files_) + active_fraction) / total_files_ : 1;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = overall > 0.01 ? wall * (1 - overall) / overall : -1;
    const std::string percent = format(" %3.0f%%", overall * 100);
    const std::string files = std::to_string(done_files_) + "/" + std::to_string(total_files_) + " files";
    const std::vector<std::string> tails{percent + "  " + files + "  ETA " + clock_text(eta),
                                         percent + " " + files, percent};
    out << progress_line("total", overall, tails, columns) << "\n";
    ++lines;
  }
  const std::string s = out.str();
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
  drawn_lines_ = lines;
}

void ProgressDisplay::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    redraw_locked();
    cv_.wait_for(lock, std::chrono::milliseconds(120));
  }
}

}  // namespace sy::cli
