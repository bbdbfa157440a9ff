#include "tests/support/small_filesystem.h"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

namespace sy::testing {

SmallFilesystem::SmallFilesystem(std::int64_t bytes) {
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
  if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
    mounted_ = true;
  } else {
    why_not_ = std::string("cannot mount a tmpfs (needs root): ") + std::strerror(errno);
  }
}

bool SmallFilesystem::resize(std::int64_t bytes) {
  const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
  return mounted_ && ::mount("tmpfs", dir_.path().c_str(), "tmpfs",
                             MS_REMOUNT | MS_NOSUID | MS_NODEV, options.c_str()) == 0;
}

SmallFilesystem::~SmallFilesystem() {
  // Lazy: a descriptor a failed test left open must not keep the mount (and the folder) alive.
  if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
}

}  // namespace sy::testing
