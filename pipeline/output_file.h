#pragma once
// A render writes to a hidden temporary file beside its target and renames it into place
// only when everything succeeded, so a failure or Ctrl-C never leaves a partial file.
#include <string>

namespace sy::pipeline {

class OutputFile {
 public:
  // Throws std::runtime_error when the target's folder does not exist or, unless
  // `overwrite`, when the target already exists.
  OutputFile(std::string target, bool overwrite);
  ~OutputFile();  // removes the temporary file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& target() const { return target_; }
  // Flushes the file to disk and renames it to the target (atomically; without
  // `overwrite` it refuses to replace a file that appeared meanwhile).
  void commit();

  // Removes every uncommitted temporary file of this process. Async-signal-safe: for a
  // second Ctrl-C that must exit at once.
  static void remove_all_pending_from_signal_handler() noexcept;

 private:
  std::string target_;
  std::string temp_;
  bool overwrite_;
  bool committed_ = false;
  int slot_ = -1;
};

}  // namespace sy::pipeline
