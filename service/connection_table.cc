#include "service/connection_table.h"

#include <sys/resource.h>

#include <algorithm>

namespace sy::service {

std::shared_ptr<ConnectionTable::Entry> ConnectionTable::admit(const std::string& client,
                                                               Refusal* refusal) {
  std::function<void()> to_close;
  auto entry = std::make_shared<Entry>();
  entry->client = client;
  {
    std::lock_guard lock(mutex_);
    if (limits_.max_per_client > 0) {
      const auto it = per_client_.find(client);
      if (it != per_client_.end() && it->second >= limits_.max_per_client) {
        *refusal = Refusal::kClientFull;
        return nullptr;
      }
    }
    if (open_ >= limits_.max_total) {
      // The oldest connection waiting for a request makes room; its slot is released when
      // its session ends, a moment later, so the count runs over by the few being closed.
      if (idle_.empty()) {
        *refusal = Refusal::kServerFull;
        return nullptr;
      }
      Entry* oldest = idle_.front();
      idle_.pop_front();
      oldest->idle = false;
      to_close = std::move(oldest->close_idle);
    }
    ++open_;
    ++per_client_[client];
  }
  if (to_close) to_close();
  *refusal = Refusal::kNone;
  return entry;
}

void ConnectionTable::release(Entry& entry) {
  std::lock_guard lock(mutex_);
  if (entry.idle) idle_.erase(entry.idle_at);
  entry.idle = false;
  --open_;
  const auto it = per_client_.find(entry.client);
  if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
}

void ConnectionTable::set_close_idle(Entry& entry, std::function<void()> close_idle) {
  std::lock_guard lock(mutex_);
  entry.close_idle = std::move(close_idle);
}

void ConnectionTable::set_idle(Entry& entry, bool idle) {
  std::lock_guard lock(mutex_);
  if (idle == entry.idle) return;
  if (idle) {
    entry.idle_at = idle_.insert(idle_.end(), &entry);
  } else {
    idle_.erase(entry.idle_at);
  }
  entry.idle = idle;
}

int ConnectionTable::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::uint64_t raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  // "Unlimited" cannot be, but be safe: a million descriptors is more than any table needs.
  return std::min<std::uint64_t>(limit.rlim_cur, 1u << 20);
}

int default_max_connections(std::uint64_t open_file_limit) {
  const auto reserve = std::max<std::uint64_t>(64, open_file_limit / 4);
  return static_cast<int>(open_file_limit > reserve + 16 ? open_file_limit - reserve : 16);
}

}  // namespace sy::service
