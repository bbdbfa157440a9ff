#include "cli/progress_display.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sy::cli {

namespace {

std::string clock_text(double seconds) {
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

std::string bar(double fraction, int width) {
  const int filled = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
  std::string s;
  for (int i = 0; i < width; ++i) s += i < filled ? "█" : "░";
  return s;
}

std::string shorten(const std::string& name, std::size_t width) {
  if (name.size() <= width) return name + std::string(width - name.size(), ' ');
  return name.substr(0, width - 1) + "…";
}

void json_line(const nlohmann::json& j) {
  std::string s = j.dump();
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

ProgressDisplay::ProgressDisplay(ProgressMode mode, std::size_t total_files)
    : mode_(mode), total_files_(total_files), start_(std::chrono::steady_clock::now()) {
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

void ProgressDisplay::started(std::size_t index, const std::string& input) {
  std::lock_guard<std::mutex> lock(mu_);
  active_[index] = FileState{std::filesystem::path(input).filename().string(), pipeline::Progress{}};
  if (mode_ == ProgressMode::kJson) json_line({{"event", "start"}, {"input", input}, {"index", index}});
}

void ProgressDisplay::update(std::size_t index, const pipeline::Progress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = active_.find(index);
  if (it == active_.end()) return;
  it->second.progress = p;
  if (mode_ == ProgressMode::kJson && p.stage != pipeline::Stage::kDone) {
    json_line({{"event", "progress"},
               {"index", index},
               {"input", it->second.name},
               {"stage", pipeline::stage_name(p.stage)},
               {"progress", std::round(p.fraction * 1000) / 1000},
               {"realtime_factor", std::round(p.realtime_factor * 10) / 10},
               {"eta_seconds", p.eta_seconds < 0 ? nlohmann::json() : nlohmann::json(std::round(p.eta_seconds * 10) / 10)}});
  }
}

void ProgressDisplay::finished(std::size_t index, const std::string& output, const pipeline::RenderResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = active_.count(index) ? active_[index].name : output;
  active_.erase(index);
  ++done_files_;
  audio_seconds_done_ += r.duration_seconds;
  const double rtf = r.wall_seconds > 0 ? r.duration_seconds / r.wall_seconds : 0;
  if (mode_ == ProgressMode::kJson) {
    json_line({{"event", "done"},
               {"index", index},
               {"input", name},
               {"output", output},
               {"duration_seconds", r.duration_seconds},
               {"bytes", r.bytes},
               {"wall_seconds", r.wall_seconds},
               {"realtime_factor", rtf},
               {"gain_db", r.output_gain_db},
               {"tempo_bpm", r.tempo_bpm > 0 ? nlohmann::json(std::round(r.tempo_bpm * 10) / 10) : nlohmann::json()},
               {"note", r.motion_note.empty() ? nlohmann::json() : nlohmann::json(r.motion_note)}});
  } else if (mode_ == ProgressMode::kBar) {
    clear_bars_locked();
    std::string tempo;
    if (r.tempo_bpm > 0) tempo = ", " + std::to_string(static_cast<int>(std::lround(r.tempo_bpm))) + " BPM";
    std::fprintf(stderr, "✓ %s → %s  (%s of audio in %.1f s, %.0f× real time%s)\n", name.c_str(), output.c_str(),
                 clock_text(r.duration_seconds).c_str(), r.wall_seconds, rtf, tempo.c_str());
    if (!r.motion_note.empty()) std::fprintf(stderr, "  note: %s\n", r.motion_note.c_str());
    redraw_locked();
  }
}

void ProgressDisplay::failed(std::size_t index, const std::string& message, int exit_code) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = active_.count(index) ? active_[index].name : "";
  active_.erase(index);
  ++done_files_;
  if (mode_ == ProgressMode::kJson)
    json_line({{"event", "error"}, {"index", index}, {"input", name}, {"message", message}, {"exit_code", exit_code}});
}

void ProgressDisplay::error_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  clear_bars_locked();
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
  if (mode_ == ProgressMode::kBar) redraw_locked();
}

void ProgressDisplay::clear_bars_locked() {
  for (std::size_t i = 0; i < drawn_lines_; ++i) std::fputs("\x1b[1A\x1b[2K", stderr);
  if (drawn_lines_ > 0) std::fputs("\r", stderr);
  drawn_lines_ = 0;
}

void ProgressDisplay::redraw_locked() {
  if (mode_ != ProgressMode::kBar || stop_) return;
  clear_bars_locked();
  std::ostringstream out;
  std::size_t lines = 0;
  double active_fraction = 0;
  for (const auto& [index, f] : active_) {
    const pipeline::Progress& p = f.progress;
    active_fraction += p.fraction;
    char tail[96];
    std::snprintf(tail, sizeof tail, " %3.0f%%  %-9s %6.1f×  ETA %s", p.fraction * 100, pipeline::stage_name(p.stage).c_str(),
                  p.realtime_factor, clock_text(p.eta_seconds).c_str());
    out << "  " << shorten(f.name, 28) << " " << bar(p.fraction, 24) << tail << "\n";
    ++lines;
  }
  if (total_files_ > 1 || lines == 0) {
    const double overall = total_files_ ? (static_cast<double>(done_files_) + active_fraction) / total_files_ : 1;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double eta = overall > 0.01 ? wall * (1 - overall) / overall : -1;
    char tail[96];
    std::snprintf(tail, sizeof tail, " %3.0f%%  %zu/%zu files  ETA %s", overall * 100, done_files_, total_files_,
                  clock_text(eta).c_str());
    out << "  " << shorten("total", 28) << " " << bar(overall, 24) << tail << "\n";
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
