#pragma once
// The behaviour every JobQueue backend must show. A backend's test instantiates the suite:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, JobQueueConformance, ::testing::Values(QueueBackend{...}));
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "queue/job_queue.h"

namespace sy::queue::testing {

struct QueueBackend {
  std::string name;
  std::function<void()> reset;                      // empties the store before each test
  std::function<std::unique_ptr<JobQueue>()> open;  // a new connection to the same store
  // Turns the store back into the schema before Job::failed_permanently (version 3), rows
  // kept, as a database an older binary left; the next open() migrates it.
  std::function<void()> drop_failure_kind;
};

class JobQueueConformance : public ::testing::TestWithParam<QueueBackend> {
 protected:
  void SetUp() override;
  NewJob make_job(const std::string& id, int max_attempts = 3) const;
  // Creates and enqueues `id`.
  void submit(JobQueue& q, const std::string& id, int max_attempts = 3) const;

  std::unique_ptr<JobQueue> queue;
};

inline void PrintTo(const QueueBackend& b, std::ostream* os) { *os << b.name; }

inline std::string backend_name(const ::testing::TestParamInfo<QueueBackend>& info) {
  return info.param.name;
}

}  // namespace sy::queue::testing
