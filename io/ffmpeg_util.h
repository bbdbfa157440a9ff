#pragma once
// RAII owners and small helpers around FFmpeg's C API, shared by the decoder and encoder.
#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/avstring.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>
}

namespace sy::io::ffmpeg {

struct InputContextDeleter {
  void operator()(AVFormatContext* c) const { avformat_close_input(&c); }
};
// An output context owns its AVIOContext (opened with avio_open) until the trailer is written.
struct OutputContextDeleter {
  void operator()(AVFormatContext* c) const {
    if (c->pb != nullptr && (c->oformat->flags & AVFMT_NOFILE) == 0) avio_closep(&c->pb);
    avformat_free_context(c);
  }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct SwrDeleter {
  void operator()(SwrContext* c) const { swr_free(&c); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FifoDeleter {
  void operator()(AVAudioFifo* f) const { av_audio_fifo_free(f); }
};
struct DictDeleter {
  void operator()(AVDictionary* d) const { av_dict_free(&d); }
};

using InputContextPtr = std::unique_ptr<AVFormatContext, InputContextDeleter>;
using OutputContextPtr = std::unique_ptr<AVFormatContext, OutputContextDeleter>;
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using FifoPtr = std::unique_ptr<AVAudioFifo, FifoDeleter>;

// An AVDictionary of options; av_dict_set() on get(), then pass ptr() to an FFmpeg call
// that consumes the options it knows and leaves the rest.
class Options {
 public:
  Options() = default;
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
  ~Options() { av_dict_free(&dict_); }
  void set(const char* key, const std::string& value) {
    av_dict_set(&dict_, key, value.c_str(), 0);
  }
  AVDictionary** ptr() { return &dict_; }

 private:
  AVDictionary* dict_ = nullptr;
};

FramePtr make_frame();
PacketPtr make_packet();

// FFmpeg's text for an AVERROR code, e.g. "Invalid data found when processing input".
std::string error_text(int errnum);

// Which way the bytes went when FFmpeg failed: reading the input or writing the output.
enum class Direction { kRead, kWrite };

// When `errnum` is AVERROR(e) for an errno that says the machine is in trouble, throws
// base::StorageFull / TransientError: the file is not to blame and a job meeting it is
// retried. Else returns. Writing, that is a full disk, an I/O error, a refused connection…
// (not ENOMEM); reading, only running out of descriptors (EIO and EAGAIN stay the file's:
// see the .cc).
void throw_if_transient(int errnum, Direction direction, const std::string& what);

// FFmpeg prints to stderr by default; our errors are reported as exceptions instead.
// Called by every entry point of io/; SY_FFMPEG_LOG=<level name or number> brings the
// library's log back for debugging (e.g. SY_FFMPEG_LOG=debug).
void quiet_log();
// quiet_log() and the process-wide allocation ceiling of io/input_safety.h. Every entry
// point of io/ calls it before touching FFmpeg.
void init();

// Stereo, FL+FR.
AVChannelLayout stereo_layout();

}  // namespace sy::io::ffmpeg
