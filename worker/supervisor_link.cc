#include "worker/supervisor_link.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "worker/supervisor_channel.h"

namespace sy::worker {

SupervisorLink::SupervisorLink(int fd) : fd_(fd) {}

SupervisorLink::~SupervisorLink() {
  stop_reading();
  ::close(fd_);
}

void SupervisorLink::start(Handlers handlers) {
  handlers_ = std::move(handlers);
  reader_ = std::thread([this] { read_loop(); });
}

void SupervisorLink::stop_reading() {
  if (!reader_.joinable()) return;
  closing_ = true;
  ::shutdown(fd_, SHUT_RD);  // ends the blocking recv below; sending still works
  reader_.join();
}

void SupervisorLink::read_loop() {
  char buf[kMaxChannelMessage + 1];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const auto message = decode(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!message) continue;
    if (message->kind == ChannelMessage::Kind::kWake && handlers_.wake) handlers_.wake();
    if (message->kind == ChannelMessage::Kind::kCancel && handlers_.cancel)
      handlers_.cancel(message->job_id);
  }
  if (!closing_ && handlers_.supervisor_gone) handlers_.supervisor_gone();
}

void SupervisorLink::started(const std::string& job_id) {
  ChannelMessage m;
  m.kind = ChannelMessage::Kind::kStarted;
  m.job_id = job_id;
  send_message(fd_, m);
}

void SupervisorLink::length(const std::string& job_id, double seconds) {
  ChannelMessage m;
  m.kind = ChannelMessage::Kind::kLength;
  m.job_id = job_id;
  m.seconds = seconds;
  send_message(fd_, m);
}

void SupervisorLink::ended(const std::string& job_id, std::string_view outcome,
                           double wall_seconds, double realtime_factor) {
  ChannelMessage m;
  m.kind = ChannelMessage::Kind::kEnded;
  m.job_id = job_id;
  m.outcome = std::string(outcome);
  m.wall_seconds = wall_seconds;
  m.realtime_factor = realtime_factor;
  send_message(fd_, m);
}

}  // namespace sy::worker
