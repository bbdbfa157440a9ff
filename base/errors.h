#pragma once
// Error types every layer shares: what they mean decides an exit status or a job's fate.
#include <stdexcept>
#include <string>

namespace sy::base {

// The input is unreadable, unsupported, hostile or over a limit: exit status 3,
// a job that fails at once without retries.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user asked for something that cannot be done (bad option value): exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The render was cancelled (Ctrl-C, DELETE of a job).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

}  // namespace sy::base
