#pragma once
// Prometheus metrics through prometheus-cpp's core (Debian's prometheus-cpp-dev); we serve
// the text format ourselves on /metrics instead of using its civetweb exposer.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <shared_mutex>
#include <unordered_map>

#include "queue/job_queue.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace sy::service {

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void request(std::string_view route, std::string_view method, int status);
  void uploaded(std::int64_t bytes);
  // A record of an S3 bucket notification: queued, duplicate, ignored (unknown key).
  void s3_event(std::string_view outcome);
  // Open Server-Sent Events streams, and connections turned away (reason: server_full,
  // client_full, descriptors).
  void event_streams_open(int open);
  void connection_refused(std::string_view reason);
  // outcome as the worker pool reports it: done, retry, failed, released, abandoned.
  void job_outcome(std::string_view outcome, double wall_seconds, double realtime_factor);
  // The text exposition, with job counts and busy workers sampled now.
  std::string scrape(const std::map<queue::JobStatus, std::int64_t>& counts, int busy_workers);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  // Family::Add builds and hashes a label map; the hot path looks its counter up here first.
  std::shared_mutex request_cache_mutex_;
  std::unordered_map<std::string, prometheus::Counter*> request_cache_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* outcomes_;
  prometheus::Family<prometheus::Gauge>* jobs_;
  prometheus::Family<prometheus::Counter>* s3_events_;
  prometheus::Counter* upload_bytes_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* workers_busy_;
  prometheus::Gauge* event_streams_;
  prometheus::Family<prometheus::Counter>* refused_;
  prometheus::Histogram* job_duration_;
  prometheus::Histogram* realtime_factor_;
};

}  // namespace sy::service
