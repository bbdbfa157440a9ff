#pragma once
// Scratch folders that many processes can keep side by side in one parent (the data
// directory's work/ when `serve`, `serve --workers 0` and `surroundyou worker` share it).
// Each process makes its own with mkdtemp (0700, a name nobody can guess) and holds an
// exclusive flock on the lock file inside for as long as it lives; the kernel drops the lock
// when the process ends however it ends, so a folder whose lock can be taken belongs to no
// one and may go. Nobody ever empties the whole parent: that removed renders of the other
// processes still running.
#include <cstddef>
#include <filesystem>
#include <string>

namespace sy::worker {

// Every process's scratch folder name starts with this, whatever its role.
inline constexpr const char* kScratchPrefix = "sy-";

class ScratchDir {
 public:
  // Makes <parent>/<prefix>XXXXXX and locks it. Throws std::system_error (or
  // base::StorageFull) when it cannot.
  ScratchDir(const std::filesystem::path& parent, const std::string& prefix);
  // Removes the folder with everything in it, then lets go of the lock.
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  static constexpr const char* kLockName = ".owner.lock";

 private:
  std::filesystem::path path_;
  int lock_fd_ = -1;
};

// Removes the folders in `parent` whose names start with `prefix` and whose owner is gone:
// their lock file can be locked, or they have none and are older than a minute (a process
// that died between mkdtemp and taking its lock). Returns how many went.
std::size_t remove_abandoned_scratch(const std::filesystem::path& parent,
                                     const std::string& prefix);

}  // namespace sy::worker
