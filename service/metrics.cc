#include "service/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace sy::service {

namespace {

// All that every metric here asks of prometheus-cpp's builder: its name, its help, registered.
template <class Builder>
auto& registered(Builder builder, prometheus::Registry& registry, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto counter = [this](const char* name, const char* help) -> auto& {
    return registered(prometheus::BuildCounter(), *registry_, name, help);
  };
  auto gauge = [this](const char* name, const char* help) -> auto& {
    return registered(prometheus::BuildGauge(), *registry_, name, help);
  };
  auto histogram = [this](const char* name, const char* help) -> auto& {
    return registered(prometheus::BuildHistogram(), *registry_, name, help);
  };
  requests_ = &counter("sy_http_requests_total", "HTTP requests by route template, method and status");
  outcomes_ = &counter("sy_job_attempts_total", "Job attempts by outcome (done, retry, failed, released, abandoned)");
  jobs_ = &gauge("sy_jobs", "Jobs by state (failed is the dead-letter state)");
  for (auto s : {queue::JobStatus::kAwaitingUpload, queue::JobStatus::kQueued,
                 queue::JobStatus::kProcessing, queue::JobStatus::kDone,
                 queue::JobStatus::kFailed, queue::JobStatus::kExpired})
    jobs_->Add({{"state", std::string(queue::status_name(s))}});
  s3_events_ = &counter("sy_s3_events_total", "S3 bucket notification records by outcome (queued, duplicate, ignored)");
  for (const char* outcome : {"queued", "duplicate", "ignored"}) s3_events_->Add({{"outcome", outcome}});
  upload_bytes_ = &counter("sy_upload_bytes_total", "Bytes stored by uploads to the embedded object store").Add({});
  queue_depth_ = &gauge("sy_queue_depth", "Jobs queued and waiting for a worker").Add({});
  workers_busy_ = &gauge("sy_workers_busy", "Workers rendering right now").Add({});
  event_streams_ = &gauge("sy_event_streams_open", "Server-Sent Events streams open now").Add({});
  refused_ = &counter("sy_http_connections_refused_total",
                      "Connections answered 503 and closed at once, by the limit they met");
  for (const char* reason : {"server_full", "client_full", "descriptors"}) refused_->Add({{"reason", reason}});
  job_duration_ = &histogram("sy_job_duration_seconds", "Wall time of successful renders")
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 30, 60, 120, 300, 600});
  realtime_factor_ = &histogram("sy_job_realtime_factor", "Seconds of audio rendered per wall second")
                          .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 5, 10, 20, 50, 100, 200});
}

void Metrics::request(std::string_view route, std::string_view method, int status) {
  std::string key(route);
  key.append(1, '\n').append(method).append(1, '\n').append(std::to_string(status));
  {
    std::shared_lock lock(request_cache_mutex_);
    if (auto it = request_cache_.find(key); it != request_cache_.end()) {
      it->second->Increment();
      return;
    }
  }
  auto& counter =
      requests_->Add({{"route", std::string(route)},
                      {"method", std::string(method)},
                      {"status", std::to_string(status)}});
  counter.Increment();
  std::unique_lock lock(request_cache_mutex_);
  request_cache_.emplace(std::move(key), &counter);
}

void Metrics::s3_event(std::string_view outcome) {
  s3_events_->Add({{"outcome", std::string(outcome)}}).Increment();
}

void Metrics::event_streams_open(int open) { event_streams_->Set(open); }

void Metrics::connection_refused(std::string_view reason) {
  refused_->Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::uploaded(std::int64_t bytes) {
  upload_bytes_->Increment(static_cast<double>(bytes));
}

void Metrics::job_outcome(std::string_view outcome, double wall_seconds, double realtime_factor) {
  outcomes_->Add({{"outcome", std::string(outcome)}}).Increment();
  if (outcome == "done") {
    job_duration_->Observe(wall_seconds);
    realtime_factor_->Observe(realtime_factor);
  }
}

std::string Metrics::scrape(const std::map<queue::JobStatus, std::int64_t>& counts,
                            int busy_workers) {
  for (const auto& [status, n] : counts)
    jobs_->Add({{"state", std::string(queue::status_name(status))}}).Set(static_cast<double>(n));
  const auto q = counts.find(queue::JobStatus::kQueued);
  queue_depth_->Set(q == counts.end() ? 0.0 : static_cast<double>(q->second));
  workers_busy_->Set(busy_workers);
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace sy::service
