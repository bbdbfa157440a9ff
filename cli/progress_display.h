#pragma once
// What `surroundyou render` tells its user: live bars on a terminal (stderr), a report line
// after each file and a summary after a batch (stdout), or JSON lines for scripts (stdout).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/render.h"

namespace sy::cli {

enum class ProgressMode { kBar, kJson, kNone };

class ProgressDisplay {
 public:
  // `excerpt`: the renders are previews or trims; report lines say where they start.
  ProgressDisplay(ProgressMode mode, std::size_t total_files, bool excerpt);
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // `input` is the path as given (or found in a folder): every JSON event names it the same.
  void started(std::size_t index, const std::string& input, const std::string& output);
  void update(std::size_t index, const pipeline::Progress& p);  // thread-safe, cheap
  void finished(std::size_t index, const std::string& input, const std::string& output,
                const pipeline::RenderResult& r);
  void skipped(std::size_t index, const std::string& input, const std::string& output, const std::string& reason);
  // Prints `error: <message> (<input>)` on stderr without tearing the bars.
  void failed(std::size_t index, const std::string& input, const std::string& message, int exit_code);
  // Prints `warning: <message> (<input>)` on stderr without tearing the bars.
  void warned(const std::string& input, const std::string& message);
  // Clears the bars; then, after a batch (or always, as JSON), the counts and every failure again.
  void summary(int exit_code, bool interrupted);
  void close();

 private:
  struct FileState {
    std::string input;
    std::string name;
    pipeline::Progress progress;
  };
  struct Failure {
    std::string input, message;
  };
  void print_locked(const std::vector<std::string>& lines);
  void redraw_locked();
  void clear_bars_locked();
  void loop();

  ProgressMode mode_;
  std::size_t total_files_;
  bool excerpt_;
  std::size_t done_files_ = 0;
  std::size_t converted_ = 0, skipped_ = 0;
  std::vector<Failure> failures_;
  std::map<std::size_t, FileState> active_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  std::size_t drawn_lines_ = 0;
  std::chrono::steady_clock::time_point start_;
};

// One line (or a few, to fit `columns`; 0: one) saying what came out: the output, its
// loudness, peaks, range, correlation and rotation depth, and how long it took.
std::vector<std::string> report_lines(const std::string& output, const pipeline::RenderResult& r,
                                      bool excerpt, int columns);

}  // namespace sy::cli
