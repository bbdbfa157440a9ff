#pragma once
// The open Server-Sent Events streams, counted per job, per client and in total, so one
// job's token or one client cannot hold every slot. A slot is an object: it is given back
// when it is destroyed, on every way out of a stream (end, client gone, failure).
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sy::service {

struct StreamLimits {
  int max_total = 1000;
  int max_per_job = 4;
  int max_per_client = 16;
};

class StreamSlots {
 public:
  class Slot {
   public:
    Slot(StreamSlots& owner, std::string job, std::string client)
        : owner_(owner), job_(std::move(job)), client_(std::move(client)) {}
    ~Slot() { owner_.release(job_, client_); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    StreamSlots& owner_;
    std::string job_, client_;
  };

  // `on_change` hears the open count after each change (the metrics' gauge).
  StreamSlots(StreamLimits limits, std::function<void(int)> on_change)
      : limits_(limits), on_change_(std::move(on_change)) {}

  // A slot for a stream of `job` to `client`, or null when a limit is reached.
  std::unique_ptr<Slot> acquire(const std::string& job, const std::string& client);
  int open() const;

 private:
  void release(const std::string& job, const std::string& client);

  const StreamLimits limits_;
  const std::function<void(int)> on_change_;
  mutable std::mutex mutex_;
  int open_ = 0;
  std::unordered_map<std::string, int> per_job_;
  std::unordered_map<std::string, int> per_client_;
};

}  // namespace sy::service
