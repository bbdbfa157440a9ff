#include "tests/support/server_process.h"

#include <stdexcept>
#include <thread>

#include "tests/support/http_client.h"

namespace sy::testing {

using namespace std::chrono_literals;

ServerProcess::ServerProcess(ServeOptions options)
    : options_(std::move(options)), port_(options_.port ? *options_.port : free_port()) {
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{options_.binary, "serve", "--listen",
                               "127.0.0.1:" + std::to_string(port_), "--data-dir",
                               options_.data_dir.string(), "--workers",
                               std::to_string(options_.workers)},
      options_.env, options_.log);
  const auto end = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (port_ == 0) {  // the "serving" log line names the address actually bound
      const std::string log = process_->log_tail(1 << 20);
      const std::string key = "\"listen\":\"127.0.0.1:";
      if (const auto at = log.find(key); at != std::string::npos)
        port_ = static_cast<unsigned short>(std::stoi(log.substr(at + key.size())));
    } else {
      try {
        if (http_request("GET", url("/readyz"), {}, {}, 2s).status == 200) return;
      } catch (const std::exception&) {  // not listening yet
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error("server did not become ready\n" + process_->log_tail());
}

std::string ServerProcess::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace sy::testing
