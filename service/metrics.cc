#include "service/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace sy::service {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("sy_http_requests_total")
                   .Help("HTTP requests by route template, method and status")
                   .Register(*registry_);
  outcomes_ = &prometheus::BuildCounter()
                   .Name("sy_job_attempts_total")
                   .Help("Job attempts by outcome (done, retry, failed, released, abandoned)")
                   .Register(*registry_);
  jobs_ = &prometheus::BuildGauge()
               .Name("sy_jobs")
               .Help("Jobs by state (failed is the dead-letter state)")
               .Register(*registry_);
  s3_events_ = &prometheus::BuildCounter()
                    .Name("sy_s3_events_total")
                    .Help("S3 bucket notification records by outcome (queued, duplicate, ignored)")
                    .Register(*registry_);
  for (const char* outcome : {"queued", "duplicate", "ignored"}) s3_events_->Add({{"outcome", outcome}});
  upload_bytes_ = &prometheus::BuildCounter()
                       .Name("sy_upload_bytes_total")
                       .Help("Bytes stored by uploads to the embedded object store")
                       .Register(*registry_)
                       .Add({});
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("sy_queue_depth")
                      .Help("Jobs queued and waiting for a worker")
                      .Register(*registry_)
                      .Add({});
  workers_busy_ = &prometheus::BuildGauge()
                       .Name("sy_workers_busy")
                       .Help("Workers rendering right now")
                       .Register(*registry_)
                       .Add({});
  event_streams_ = &prometheus::BuildGauge()
                        .Name("sy_event_streams_open")
                        .Help("Server-Sent Events streams open now")
                        .Register(*registry_)
                        .Add({});
  refused_ = &prometheus::BuildCounter()
                  .Name("sy_http_connections_refused_total")
                  .Help("Connections answered 503 and closed at once, by the limit they met")
                  .Register(*registry_);
  for (const char* reason : {"server_full", "client_full", "descriptors"}) refused_->Add({{"reason", reason}});
  job_duration_ = &prometheus::BuildHistogram()
                       .Name("sy_job_duration_seconds")
                       .Help("Wall time of successful renders")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{
                                    1, 2, 5, 10, 20, 30, 60, 120, 300, 600});
  realtime_factor_ = &prometheus::BuildHistogram()
                          .Name("sy_job_realtime_factor")
                          .Help("Seconds of audio rendered per wall second")
                          .Register(*registry_)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       1, 2, 5, 10, 20, 50, 100, 200});
  for (auto s : {queue::JobStatus::kAwaitingUpload, queue::JobStatus::kQueued,
                 queue::JobStatus::kProcessing, queue::JobStatus::kDone,
                 queue::JobStatus::kFailed, queue::JobStatus::kExpired})
    jobs_->Add({{"state", std::string(queue::status_name(s))}});
}

Metrics::~Metrics() = default;

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
