#pragma once
// The one temporary folder of every test: made fresh, removed with everything in it.
#include <filesystem>
#include <string>
#include <vector>

namespace sy::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Names of all entries (including hidden ones), sorted.
  std::vector<std::string> entries() const;

 private:
  std::filesystem::path path_;
};

// The whole content of a file (empty when it cannot be read).
std::string read_file(const std::filesystem::path& path);

}  // namespace sy::testing
