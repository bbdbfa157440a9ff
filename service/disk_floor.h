#pragma once
// The free space of the data directory against a floor (storage.min_free_mb): below it the
// server says it is not ready, and an upload that would take the disk under it is refused
// before a byte of it is written.
#include <cstdint>
#include <filesystem>
#include <optional>

namespace sy::service {

class DiskFloor {
 public:
  // An empty `dir` or a floor of 0: no check.
  DiskFloor(std::filesystem::path dir, std::int64_t min_free_bytes)
      : dir_(std::move(dir)), min_free_(min_free_bytes) {}

  // Free bytes an unprivileged writer may use; nullopt when unchecked or unknown.
  std::optional<std::int64_t> available() const;
  bool low() const { return !fits(0); }
  // Whether `bytes` more leave the floor free (true when the space cannot be read: the
  // write itself then meets ENOSPC, which is answered 507 too).
  bool fits(std::int64_t bytes) const;

 private:
  std::filesystem::path dir_;
  std::int64_t min_free_;
};

}  // namespace sy::service
