#include "service/stream_slots.h"

namespace sy::service {
namespace {

void decrement(std::unordered_map<std::string, int>& counts, const std::string& key) {
  const auto it = counts.find(key);
  if (it != counts.end() && --it->second <= 0) counts.erase(it);
}

}  // namespace

std::unique_ptr<StreamSlots::Slot> StreamSlots::acquire(const std::string& job,
                                                        const std::string& client) {
  std::lock_guard lock(mutex_);
  const auto count = [](const std::unordered_map<std::string, int>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
  };
  if (open_ >= limits_.max_total || count(per_job_, job) >= limits_.max_per_job ||
      count(per_client_, client) >= limits_.max_per_client)
    return nullptr;
  ++open_;
  ++per_job_[job];
  ++per_client_[client];
  if (on_change_) on_change_(open_);
  return std::make_unique<Slot>(*this, job, client);
}

void StreamSlots::release(const std::string& job, const std::string& client) {
  std::lock_guard lock(mutex_);
  --open_;
  decrement(per_job_, job);
  decrement(per_client_, client);
  if (on_change_) on_change_(open_);
}

int StreamSlots::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace sy::service
