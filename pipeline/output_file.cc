#include "pipeline/output_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>

namespace sy::pipeline {

namespace {

// Fixed table of pending temp paths, readable from a signal handler without locks.
constexpr int kSlots = 64;
constexpr std::size_t kPathMax = 4096;
struct Slot {
  std::atomic<bool> used{false};
  char path[kPathMax];
};
std::array<Slot, kSlots> g_slots;

int claim_slot(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_slots[i].used.compare_exchange_strong(expected, true)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      return i;
    }
  }
  return -1;
}

void release_slot(int slot) {
  if (slot >= 0) g_slots[slot].used.store(false);
}

std::string random_suffix() {
  static std::mutex mu;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(8, 'x');
  for (char& c : s) c = kChars[rng() % (sizeof(kChars) - 1)];
  return s;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

OutputFile::OutputFile(std::string target, bool overwrite)
    : target_(std::move(target)), overwrite_(overwrite) {
  namespace fs = std::filesystem;
  fs::path t(target_);
  fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("output folder does not exist: " + dir.string());
  if (!overwrite_ && fs::exists(t, ec))
    throw std::runtime_error("output exists, use --force to overwrite: " + target_);
  if (fs::is_directory(t, ec)) throw std::runtime_error("output is a folder: " + target_);
  // Create the temp file exclusively so two renders never share one.
  for (int attempt = 0; attempt < 16; ++attempt) {
    fs::path candidate = dir / ("." + t.filename().string() + ".part-" + random_suffix());
    int fd = ::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      temp_ = candidate.string();
      slot_ = claim_slot(temp_);
      return;
    }
    if (errno != EEXIST) throw std::runtime_error("cannot write to " + dir.string() + ": " + errno_text());
  }
  throw std::runtime_error("cannot create a temporary file in " + dir.string());
}

OutputFile::~OutputFile() {
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
  release_slot(slot_);
}

void OutputFile::commit() {
  int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  int rc = overwrite_ ? std::rename(temp_.c_str(), target_.c_str())
                      : ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE);
  if (rc != 0) {
    if (errno == EEXIST) throw std::runtime_error("output exists, use --force to overwrite: " + target_);
    throw std::runtime_error("cannot rename the output into place: " + errno_text());
  }
  committed_ = true;
  release_slot(slot_);
  slot_ = -1;
}

void OutputFile::remove_all_pending_from_signal_handler() noexcept {
  for (auto& slot : g_slots)
    if (slot.used.load()) ::unlink(slot.path);
}

}  // namespace sy::pipeline
