#include "worker/scratch_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/errors.h"
#include "base/log.h"

namespace sy::worker {
namespace fs = std::filesystem;

namespace {

// A folder that has no lock file yet is left alone for this long: its owner may be between
// mkdtemp and open.
constexpr auto kUnlockedGrace = std::chrono::minutes(1);

int open_lock(const fs::path& dir, int flags) {
  return ::open((dir / ScratchDir::kLockName).c_str(), flags | O_RDWR | O_CLOEXEC | O_NOFOLLOW,
                0600);
}

}  // namespace

ScratchDir::ScratchDir(const fs::path& parent, const std::string& prefix) {
  fs::create_directories(parent);
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) base::throw_errno(errno, "mkdtemp in " + parent.string());
  path_ = pattern;
  lock_fd_ = open_lock(path_, O_CREAT | O_EXCL);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (lock_fd_ >= 0) ::close(lock_fd_);
    std::error_code ec;
    fs::remove_all(path_, ec);
    base::throw_errno(error, "lock " + path_.string());
  }
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  ::close(lock_fd_);
}

std::size_t remove_abandoned_scratch(const fs::path& parent, const std::string& prefix) {
  std::size_t removed = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(parent, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const fs::path dir = it->path();
    std::error_code entry_ec;
    if (dir.filename().string().rfind(prefix, 0) != 0 || !it->is_directory(entry_ec) ||
        it->is_symlink(entry_ec))
      continue;
    const int fd = open_lock(dir, 0);
    const int open_error = errno;
    if (fd < 0) {
      const auto age = fs::file_time_type::clock::now() - fs::last_write_time(dir, entry_ec);
      if (entry_ec || open_error != ENOENT || age < kUnlockedGrace) continue;
    } else if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);  // its owner is alive
      continue;
    }
    // Locked by us (or lock-less and old): the owner is gone and no one else can claim it,
    // since mkdtemp never hands out an existing name.
    fs::remove_all(dir, entry_ec);
    if (fd >= 0) ::close(fd);
    if (!entry_ec) {
      ++removed;
      base::log::info("removed the scratch folder of a process that is gone",
                      {{"path", dir.string()}});
    }
  }
  return removed;
}

}  // namespace sy::worker
