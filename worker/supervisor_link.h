#pragma once
// The child's end of a supervisor channel: tells the supervisor which job this process is
// rendering (so a crash returns that job to the queue at once) and passes its wake-ups and
// cancellations to the worker pool. When the supervisor is gone the channel reads end-of-file.
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace sy::worker {

class SupervisorLink {
 public:
  struct Handlers {
    std::function<void()> wake;
    std::function<void(const std::string& job_id)> cancel;
    std::function<void()> supervisor_gone;  // called once, from the link's thread
  };
  // Takes ownership of `fd`. Reading starts with start().
  explicit SupervisorLink(int fd);
  ~SupervisorLink();
  void start(Handlers handlers);
  // Stops calling the handlers (joins the reader); the send methods keep working.
  void stop_reading();
  SupervisorLink(const SupervisorLink&) = delete;
  SupervisorLink& operator=(const SupervisorLink&) = delete;

  void started(const std::string& job_id);
  void length(const std::string& job_id, double seconds);
  void ended(const std::string& job_id, std::string_view outcome, double wall_seconds,
             double realtime_factor);

 private:
  void read_loop();

  int fd_;
  Handlers handlers_;
  std::atomic<bool> closing_{false};
  std::thread reader_;
};

}  // namespace sy::worker
