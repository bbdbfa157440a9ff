#pragma once
// `surroundyou serve` as the end-to-end suites run it: a real process on a loopback port,
// handed to the test once /readyz answers 200, killed with the test at the latest.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace sy::testing {

struct ServeOptions {
  std::string binary;                       // surroundyou, or a driver with its serve command
  std::filesystem::path data_dir;
  std::filesystem::path log;                // the server's stdout and stderr
  int workers = 2;
  // nullopt: a free port picked here; 0: the server binds any port and the test learns it
  // from the server's "serving" log line.
  std::optional<unsigned short> port;
  std::map<std::string, std::string> env;   // SY_* settings
  std::chrono::seconds ready_timeout{20};
};

class ServerProcess {
 public:
  // Starts the server and waits until it is ready; throws std::runtime_error (with the log's
  // tail) when it is not ready in time.
  explicit ServerProcess(ServeOptions options);

  unsigned short port() const { return port_; }
  // http://127.0.0.1:<port><path>
  std::string url(const std::string& path) const;
  pid_t pid() const { return process_->pid(); }
  int stop(int sig, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    return process_->stop(sig, timeout);
  }
  std::string log_tail() const { return process_->log_tail(); }
  const std::filesystem::path& log() const { return process_->log(); }

 private:
  ServeOptions options_;
  unsigned short port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace sy::testing
