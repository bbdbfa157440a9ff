#pragma once
// What a supervisor and one render child say to each other over their socket pair
// (SOCK_SEQPACKET: one message per datagram, boundaries kept by the kernel, no framing code).
// Supervisor -> child: "wake" (work was queued), "cancel" (the job was deleted).
// Child -> supervisor: "started", "length" (of the song, once known), "ended" (with the
// outcome, for metrics). The child may be running a hostile file: the supervisor treats what
// it says as a hint, never as authority (the lease owner it acts for is the one it assigned).
#include <optional>
#include <string>
#include <string_view>

namespace sy::worker {

struct ChannelMessage {
  enum class Kind { kWake, kCancel, kStarted, kLength, kEnded };
  Kind kind = Kind::kWake;
  std::string job_id;
  double seconds = 0;         // length: of the song
  std::string outcome;        // ended: done, retry, failed, released, abandoned
  double wall_seconds = 0;    // ended
  double realtime_factor = 0; // ended
};

inline constexpr std::size_t kMaxChannelMessage = 1024;

std::string encode(const ChannelMessage& message);
// Null for anything malformed, unknown or oversized.
std::optional<ChannelMessage> decode(std::string_view datagram) noexcept;

// A socket pair for one child: [0] the supervisor's end, [1] the child's (both close-on-exec;
// the child's end is moved to a fixed descriptor between fork and exec). Throws on failure.
struct ChannelPair {
  int supervisor_end = -1;
  int child_end = -1;
};
ChannelPair make_channel_pair();

// Never blocks and never raises SIGPIPE; false when the message could not be sent.
bool send_message(int fd, const ChannelMessage& message) noexcept;

}  // namespace sy::worker
