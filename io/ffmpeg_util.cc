#include "io/ffmpeg_util.h"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string_view>

#include "base/errors.h"
#include "io/decoder.h"
#include "io/input_safety.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace sy::io::ffmpeg {

FramePtr make_frame() {
  FramePtr frame(av_frame_alloc());
  if (!frame) throw std::bad_alloc();
  return frame;
}

PacketPtr make_packet() {
  PacketPtr packet(av_packet_alloc());
  if (!packet) throw std::bad_alloc();
  return packet;
}

std::string error_text(int errnum) {
  std::array<char, AV_ERROR_MAX_STRING_SIZE> buf{};
  av_strerror(errnum, buf.data(), buf.size());
  return buf.data();
}

void throw_if_transient(int errnum, Direction direction, const std::string& what) {
  if (errnum >= 0) return;
  const int error = AVUNERROR(errnum);
  // Running out of descriptors is the machine's trouble whichever way the bytes go. Demuxers
  // and decoders answer EIO (and EAGAIN) for malformed data as well as for a failing disk, and
  // a file must never be retried without end (fuzz_decode found a few bytes that did it):
  // reading, nothing else is. Writing, every transient errno is but ENOMEM: under the render's
  // memory limit that is what the file asked for.
  const bool machines = error == EMFILE || error == ENFILE ||
                        (direction == Direction::kWrite && error != ENOMEM &&
                         base::is_transient_errno(error));
  if (machines) base::throw_errno(error, what);
}

namespace {

int log_level_from_env() {
  const char* env = std::getenv("SY_FFMPEG_LOG");
  if (env == nullptr || *env == '\0') return AV_LOG_QUIET;
  struct Named {
    std::string_view name;
    int level;
  };
  constexpr std::array<Named, 8> kLevels{{{"quiet", AV_LOG_QUIET},
                                          {"panic", AV_LOG_PANIC},
                                          {"fatal", AV_LOG_FATAL},
                                          {"error", AV_LOG_ERROR},
                                          {"warning", AV_LOG_WARNING},
                                          {"info", AV_LOG_INFO},
                                          {"verbose", AV_LOG_VERBOSE},
                                          {"debug", AV_LOG_DEBUG}}};
  for (const auto& l : kLevels) {
    if (l.name == env) return l.level;
  }
  return std::atoi(env);
}

}  // namespace

void quiet_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(log_level_from_env()); });
}

void init() {
  quiet_log();
  safety::cap_ffmpeg_allocations();
}

AVChannelLayout stereo_layout() {
  AVChannelLayout layout{};
  av_channel_layout_default(&layout, 2);
  return layout;
}

}  // namespace sy::io::ffmpeg

void sy::io::quiet_ffmpeg_log() { ffmpeg::init(); }
