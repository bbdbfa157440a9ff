#pragma once
// A tmpfs of a few hundred KiB mounted over a fresh temporary folder, so a test can fill a
// disk for real (ENOSPC from the kernel, not a mock). Needs root (CI and the dev container
// run as root); elsewhere available() is false and the test says it was skipped.
#include <cstdint>
#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace sy::testing {

class SmallFilesystem {
 public:
  explicit SmallFilesystem(std::int64_t bytes);
  ~SmallFilesystem();
  SmallFilesystem(const SmallFilesystem&) = delete;
  SmallFilesystem& operator=(const SmallFilesystem&) = delete;

  bool available() const { return mounted_; }
  // Makes the file system this big (the disk was cleared up, say). False when it fails.
  bool resize(std::int64_t bytes);
  const std::string& why_not() const { return why_not_; }
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string why_not_;
};

}  // namespace sy::testing
