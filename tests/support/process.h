#pragma once
// Test helpers: run a real command, make fixtures in a temp folder.
#include <filesystem>
#include <string>
#include <vector>

namespace sy::testing {

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};

// Runs argv (no shell) and captures its output. stdin is /dev/null.
CommandResult run(const std::vector<std::string>& argv);
// Runs a shell command line; returns its exit status. For fixture generation.
int shell(const std::string& command_line);
std::string quote(const std::string& s);

// A fresh temporary folder removed on destruction.
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

// ffprobe's view of a file: sample count of the first audio stream after decoding.
long long decoded_samples(const std::string& path);
std::string ffprobe_tag(const std::string& path, const std::string& tag);

}  // namespace sy::testing
