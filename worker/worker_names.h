#pragma once
// How this process's workers are named in the queue's leases (a job's lease_owner) and in
// the keys of their attempts.
#include <string>

namespace sy::worker {

// 8 hex digits from the system's random source ("0" when it fails: a name is still made).
std::string random_suffix();

// host-pid-random: unique per process run, so a restarted process never mistakes an old
// lease for its own, even with its old pid. Each worker adds its own part (a pool's "-wN", a render child's
// "-cN.G").
std::string process_worker_prefix();

}  // namespace sy::worker
