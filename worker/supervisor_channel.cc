#include "worker/supervisor_channel.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace sy::worker {
namespace {

constexpr std::string_view kind_name(ChannelMessage::Kind k) {
  switch (k) {
    case ChannelMessage::Kind::kWake: return "wake";
    case ChannelMessage::Kind::kCancel: return "cancel";
    case ChannelMessage::Kind::kStarted: return "started";
    case ChannelMessage::Kind::kLength: return "length";
    case ChannelMessage::Kind::kEnded: return "ended";
  }
  return "";
}

}  // namespace

std::string encode(const ChannelMessage& m) {
  nlohmann::json j{{"kind", kind_name(m.kind)}};
  if (!m.job_id.empty()) j["job"] = m.job_id;
  if (m.kind == ChannelMessage::Kind::kLength) j["seconds"] = m.seconds;
  if (m.kind == ChannelMessage::Kind::kEnded) {
    j["outcome"] = m.outcome;
    j["wall"] = m.wall_seconds;
    j["rtf"] = m.realtime_factor;
  }
  return j.dump();
}

std::optional<ChannelMessage> decode(std::string_view datagram) noexcept {
  if (datagram.empty() || datagram.size() > kMaxChannelMessage) return std::nullopt;
  try {
    const auto j = nlohmann::json::parse(datagram);
    ChannelMessage m;
    const std::string kind = j.at("kind");
    bool known = false;
    for (auto k : {ChannelMessage::Kind::kWake, ChannelMessage::Kind::kCancel,
                   ChannelMessage::Kind::kStarted, ChannelMessage::Kind::kLength,
                   ChannelMessage::Kind::kEnded}) {
      if (kind == kind_name(k)) {
        m.kind = k;
        known = true;
      }
    }
    if (!known) return std::nullopt;
    if (m.kind != ChannelMessage::Kind::kWake) m.job_id = j.at("job").get<std::string>();
    if (m.kind == ChannelMessage::Kind::kLength) m.seconds = j.at("seconds").get<double>();
    if (m.kind == ChannelMessage::Kind::kEnded) {
      m.outcome = j.at("outcome").get<std::string>();
      m.wall_seconds = j.at("wall").get<double>();
      m.realtime_factor = j.at("rtf").get<double>();
    }
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

ChannelPair make_channel_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
    throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
  return {fds[0], fds[1]};
}

bool send_message(int fd, const ChannelMessage& message) noexcept {
  try {
    const std::string text = encode(message);
    ssize_t n;
    do {
      n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(text.size());
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace sy::worker
