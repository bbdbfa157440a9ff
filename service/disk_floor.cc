#include "service/disk_floor.h"

#include <system_error>

namespace sy::service {

std::optional<std::int64_t> DiskFloor::available() const {
  if (dir_.empty() || min_free_ <= 0) return std::nullopt;
  std::error_code ec;
  const auto space = std::filesystem::space(dir_, ec);  // statvfs: one syscall
  if (ec) return std::nullopt;
  return static_cast<std::int64_t>(space.available);
}

bool DiskFloor::fits(std::int64_t bytes) const {
  const auto free = available();
  return !free || *free - bytes >= min_free_;
}

}  // namespace sy::service
