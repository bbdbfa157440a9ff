#pragma once
// Error types every layer shares: what they mean decides an exit status or a job's fate.
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

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

// Something around the input failed and may work later: a database or object store that did
// not answer in time or refused the connection, descriptors or memory ran out, an I/O error.
// Never the file's fault: a job that meets it is retried later without counting an attempt,
// the API answers 503 with Retry-After.
class TransientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A service this one depends on (the queue's database, the object store) did not answer within
// its deadline or refused the connection. The API answers 503 `unavailable`.
class Unavailable : public TransientError {
 public:
  using TransientError::TransientError;
};

// The disk (or quota) is full: nothing was stored. The API answers 507 `insufficient_storage`.
class StorageFull : public TransientError {
 public:
  using TransientError::TransientError;
};

// errno values that say the machine, not the input, is in trouble.
inline bool is_transient_errno(int error) {
  switch (error) {
    case ENOSPC: case EDQUOT: case EMFILE: case ENFILE: case EIO: case ENOMEM: case EAGAIN:
    case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case ETIMEDOUT: case EHOSTUNREACH:
    case ENETUNREACH: case ENETDOWN: case EPIPE: case ESTALE:
      return true;
    default:
      return false;
  }
}

// Throws the error type `error` calls for: StorageFull for a full disk, TransientError for the
// other transient errnos, std::system_error otherwise. `what` says what was being done.
[[noreturn]] inline void throw_errno(int error, const std::string& what) {
  const std::string text = what + ": " + std::generic_category().message(error);
  if (error == ENOSPC || error == EDQUOT) throw StorageFull(text);
  if (is_transient_errno(error)) throw TransientError(text);
  throw std::system_error(error, std::generic_category(), what);
}

}  // namespace sy::base
