#pragma once
// Live progress for `surroundyou render`: bars on a terminal, JSON lines for scripts, or nothing.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "pipeline/render.h"

namespace sy::cli {

enum class ProgressMode { kBar, kJson, kNone };

class ProgressDisplay {
 public:
  ProgressDisplay(ProgressMode mode, std::size_t total_files);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  void started(std::size_t index, const std::string& input);
  void update(std::size_t index, const pipeline::Progress& p);  // thread-safe, cheap
  void finished(std::size_t index, const std::string& output, const pipeline::RenderResult& r);
  void failed(std::size_t index, const std::string& message, int exit_code);
  // Prints an error line `error: ...` without tearing the bars.
  void error_line(const std::string& line);
  void close();

 private:
  struct FileState {
    std::string name;
    pipeline::Progress progress;
  };
  void redraw_locked();
  void clear_bars_locked();
  void loop();

  ProgressMode mode_;
  std::size_t total_files_;
  std::size_t done_files_ = 0;
  std::map<std::size_t, FileState> active_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  std::size_t drawn_lines_ = 0;
  std::chrono::steady_clock::time_point start_;
  double audio_seconds_done_ = 0;
};

}  // namespace sy::cli
