#include "cli/render_processes.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/sanitizers.h"

extern char** environ;

namespace sy::cli {

namespace fs = std::filesystem;

std::string fftw_wisdom_path() {
  fs::path dir;
  if (const char* own = std::getenv("SY_CACHE_DIR")) {
    if (*own == '\0') return {};
    dir = own;
  } else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    dir = fs::path(xdg) / "surroundyou";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    dir = fs::path(home) / ".cache" / "surroundyou";
  } else {
    return {};
  }
  return (dir / "fftw-wisdom").string();
}

std::string filter_store_dir() {
  const std::string wisdom = fftw_wisdom_path();
  if (wisdom.empty()) return {};
  return (fs::path(wisdom).parent_path() / "filters").string();
}

worker::RenderLimits render_limits(const service::Config& config) {
  worker::RenderLimits l;
  // Under AddressSanitizer (the sanitizer tree's tests) a render process could not start
  // under an address-space limit; the release build's tests prove that limit.
  l.memory_mb = base::kAddressSanitizer ? 0 : config.worker_memory_limit_mb;
  l.file_size_mb = config.worker_file_size_limit_mb;
  l.open_files = config.worker_open_files_limit;
  l.time_base = config.worker_time_limit;
  l.time_per_audio_second = config.worker_time_per_audio_second;
  return l;
}

worker::SupervisorOptions render_children(const service::Config& config,
                                          const std::string& config_file, int count) {
  worker::SupervisorOptions o;
  o.children = count;
  o.args = {"worker", "--jobs", "1"};
  if (!config_file.empty()) {
    o.args.emplace_back("--config");
    o.args.push_back(fs::absolute(config_file).string());
  }
  // Settings reach the child as they reached serve (file, then environment); what serve's
  // own flags changed is passed on in the environment, which the child reads after the file.
  constexpr std::string_view kDataDir = "SY_DATA_DIR=";
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, kDataDir.data(), kDataDir.size()) != 0) o.environment.emplace_back(*e);
  o.environment.push_back(std::string(kDataDir) + fs::absolute(config.data_dir).string());
  o.scratch_root = fs::absolute(config.data_dir) / "work";
  o.limits = render_limits(config);
  o.max_audio_seconds = config.max_duration_seconds;
  return o;
}

}  // namespace sy::cli
