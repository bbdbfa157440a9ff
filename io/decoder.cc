#include "io/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "io/demux.h"
#include "base/errors.h"
#include "base/times.h"
#include "io/ffmpeg_util.h"
#include "io/input_safety.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
}

namespace sy::io {
namespace {

// A few undecodable packets are forgiven (real files carry the odd broken frame); a run
// of them means the data is corrupt.
constexpr std::int64_t kForgivenErrors = 8;
constexpr std::int64_t kMaxErrorShare = 20;  // more than 1 in 20 packets fails: corrupt
// Input samples resampled at a time (a typical decoded frame is 1,152 to 4,608).
constexpr int kSliceFrames = 4096;

std::string seconds_text(double s) {
  char buf[32];
  if (s >= 120) {
    std::snprintf(buf, sizeof buf, "%.0f min", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  }
  return buf;
}


// Containers whose per-stream length in the header is written once the data is complete,
// so a shorter stream means a cut-off file. WAV/AIFF/CAF headers are left out: tools
// that stream them write placeholder sizes, and such files are fine.
bool header_length_is_reliable(const AVFormatContext* ctx) {
  if (ctx->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE) return false;
  return av_match_list(ctx->iformat->name, "mp3,flac,mov,ogg,wv,ape,tta", ',') > 0;
}

// The length a reliable header declares for the stream (0 when it declares none).
double declared_length(const AVFormatContext* ctx, const AVStream* st) {
  if (!header_length_is_reliable(ctx) || st->duration == AV_NOPTS_VALUE || st->duration <= 0) return 0;
  return static_cast<double>(st->duration) * av_q2d(st->time_base);
}

// A header that reliably declares more audio than the limit, when the caller would read past
// the limit: refused before a sample is decoded. Decoding up to the limit first costs what a
// render of a whole long song costs, and a few kilobytes of FLAC can declare hours of silence;
// such a file fails at the limit anyway (or, shorter than it says, as truncated at its end).
void refuse_declared_length(double declared, const DecodeOptions& options) {
  const double limit = options.limits.max_duration_seconds;
  // A second of slack: declared lengths count the encoder's priming and padding (MP3's
  // delay, Opus's pre-skip), which decoding drops.
  if (limit <= 0 || declared <= limit + 1.0) return;
  const double until = options.read_until_seconds;
  if (until > 0 && until <= limit) return;
  if (until > 0 && until < declared) {
    throw base::InputError("the excerpt ends at " + base::time_text(until) + ", past the " + seconds_text(limit) +
                           " limit");
  }
  throw base::InputError("the audio is longer than the " + seconds_text(limit) + " limit: the file declares " +
                         seconds_text(declared));
}

class FfmpegDecoder final : public Decoder {
 public:
  FfmpegDecoder(const std::string& path, const DecodeOptions& options)
      : input_(demux::open(path, options.limits)),
        info_(demux::describe(input_, path)),
        limits_(options.limits),
        speed_(options.speed),
        packet_(ffmpeg::make_packet()),
        frame_(ffmpeg::make_frame()) {
    AVFormatContext* ctx = input_.context.get();
    const AVStream* st = ctx->streams[input_.audio_stream];
    declared_seconds_ = declared_length(ctx, st);
    refuse_declared_length(declared_seconds_, options);
    for (unsigned i = 0; i < ctx->nb_streams; ++i) {
      if (static_cast<int>(i) != input_.audio_stream) ctx->streams[i]->discard = AVDISCARD_ALL;
    }
    const AVCodec* codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (codec == nullptr) {
      throw base::InputError(std::string("unsupported audio codec: ") +
                       avcodec_get_name(st->codecpar->codec_id));
    }
    codec_.reset(avcodec_alloc_context3(codec));
    if (!codec_) throw std::bad_alloc();
    codec_->pkt_timebase = st->time_base;
    safety::limit_decoder(codec_.get());
    if (avcodec_parameters_to_context(codec_.get(), st->codecpar) < 0 ||
        avcodec_open2(codec_.get(), codec, nullptr) < 0) {
      throw base::InputError(std::string("cannot decode the ") + avcodec_get_name(codec->id) +
                       " audio stream");
    }
    out_rate_ = decoded_rate(st->codecpar->sample_rate);
    fifo_.reset(av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 2, 4096));
    if (!fifo_) throw std::bad_alloc();

  }

  ~FfmpegDecoder() override { av_channel_layout_uninit(&swr_in_layout_); }

  const AudioInfo& info() const override { return info_; }
  int output_sample_rate() const override { return out_rate_; }

  std::int64_t estimated_frames() const override {
    double seconds = info_.duration_seconds;
    if (limits_.max_duration_seconds > 0) seconds = std::min(seconds, limits_.max_duration_seconds);
    return std::llround(seconds * out_rate_ / speed_);
  }

  std::size_t read(float* const* dst, std::size_t max_frames) override {
    const auto wanted = static_cast<int>(std::min<std::size_t>(max_frames, 1 << 20));
    while (av_audio_fifo_size(fifo_.get()) < wanted && !finished_) pump();
    const int n = std::min(wanted, av_audio_fifo_size(fifo_.get()));
    if (n <= 0) return 0;
    // av_audio_fifo_read() only writes through the plane pointers, never to them.
    void** planes = reinterpret_cast<void**>(const_cast<float**>(dst));
    const int got = av_audio_fifo_read(fifo_.get(), planes, n);
    if (got < 0) throw std::runtime_error("audio FIFO read failed");
    frames_read_ += got;
    return static_cast<std::size_t>(got);
  }

  std::int64_t frames_read() const override { return frames_read_; }

 private:
  // Moves the stream forward by one step: a slice of the frame being converted, a decoded
  // frame, or one packet (or the final flush) handed to the decoder.
  void pump() {
    if (pending_frame_) {
      convert_slice();
      return;
    }
    if (receive_frame() || finished_) return;
    if (demux_done_) return;
    const int err = av_read_frame(input_.context.get(), packet_.get());
    if (err == AVERROR(EAGAIN)) return;
    if (err < 0) {
      if (safety::is_out_of_memory(err)) throw base::InputError(safety::kNeedsTooMuchMemory);
      if (err != AVERROR_EOF) {
        ffmpeg::throw_if_transient(err, ffmpeg::Direction::kRead,
                                   "reading the file stopped after " + seconds_text(decoded_seconds_));
        throw base::InputError("the file is damaged: reading stopped after " +
                         seconds_text(decoded_seconds_));
      }
      demux_done_ = true;
      avcodec_send_packet(codec_.get(), nullptr);
      return;
    }
    if (packet_->stream_index == input_.audio_stream) {
      ++packets_;
      const int sent = avcodec_send_packet(codec_.get(), packet_.get());
      if (sent < 0 && sent != AVERROR(EAGAIN)) note_decode_error();
    }
    av_packet_unref(packet_.get());
  }

  // Takes the next decoded frame, if the decoder has one, as the frame to convert; true when
  // it did (or the stream ended).
  bool receive_frame() {
    for (;;) {
      const int err = avcodec_receive_frame(codec_.get(), frame_.get());
      if (err == AVERROR(EAGAIN)) return false;
      if (err == AVERROR_EOF) {
        finish();
        return true;
      }
      if (err < 0) {
        note_decode_error();
        if (demux_done_) {
          finish();
          return true;
        }
        continue;
      }
      if (begin_frame(frame_.get())) return true;
      av_frame_unref(frame_.get());
    }
  }

  void note_decode_error() {
    ++errors_;
    if (errors_ > kForgivenErrors && errors_ * kMaxErrorShare > packets_) {
      throw base::InputError("the audio data is corrupt");
    }
  }

  void configure_resampler(const AVFrame* frame) {
    if (swr_ && frame->sample_rate == swr_in_rate_ && frame->format == swr_in_format_ &&
        av_channel_layout_compare(&frame->ch_layout, &swr_in_layout_) == 0) {
      return;
    }
    if (swr_) drain_resampler();  // the stream changed shape mid-way (chained Ogg, ...)
    av_channel_layout_uninit(&swr_in_layout_);
    if (av_channel_layout_copy(&swr_in_layout_, &frame->ch_layout) < 0) throw std::bad_alloc();
    AVChannelLayout in_layout{};
    if (frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || frame->ch_layout.nb_channels <= 0) {
      // "2 channels, order unknown" (WAV without a channel mask): assume the usual order.
      av_channel_layout_default(&in_layout, std::max(frame->ch_layout.nb_channels, 1));
    } else if (av_channel_layout_copy(&in_layout, &frame->ch_layout) < 0) {
      throw std::bad_alloc();
    }
    swr_in_rate_ = frame->sample_rate;
    swr_in_format_ = frame->format;
    const int channels = in_layout.nb_channels;
    // Varispeed: claiming the input runs at rate*speed makes the resampler stretch it.
    const int claimed_rate = static_cast<int>(std::lround(frame->sample_rate * speed_));

    SwrContext* raw = nullptr;
    AVChannelLayout stereo = ffmpeg::stereo_layout();
    const int made =
        swr_alloc_set_opts2(&raw, &stereo, AV_SAMPLE_FMT_FLTP, out_rate_, &in_layout,
                            static_cast<AVSampleFormat>(frame->format), claimed_rate, 0, nullptr);
    av_channel_layout_uninit(&in_layout);
    if (made < 0) throw base::InputError("unsupported audio layout");
    ffmpeg::SwrPtr swr(raw);
    // Without this swr rounds the rate ratio to its phase count, and varispeed drifts.
    av_opt_set_int(swr.get(), "exact_rational", 1, 0);
    if (channels == 1) {
      // Both ears get the mono signal at full level (swr's default is -3 dB each).
      const double matrix[2] = {1.0, 1.0};
      swr_set_matrix(swr.get(), matrix, 1);
    } else if (channels > 2) {
      // Standard downmix (centre and surrounds at -3 dB, LFE left out) scaled so that
      // no output sample can exceed the loudest input: the mix never clips.
      av_opt_set_double(swr.get(), "rematrix_maxval", 1.0, 0);
    }
    if (const int rc = swr_init(swr.get()); rc < 0) {
      // Under a memory limit the resampler's filter for an absurd rate cannot be allocated:
      // that is the limit speaking, not the layout.
      if (rc == AVERROR(ENOMEM)) throw std::bad_alloc();
      throw base::InputError("unsupported audio layout");
    }
    swr_ = std::move(swr);
  }

  void store(int frames) {
    if (frames <= 0) return;
    void* planes[2] = {left_.data(), right_.data()};
    if (av_audio_fifo_write(fifo_.get(), planes, frames) < frames) throw std::bad_alloc();
  }

  void reserve_scratch(int frames) {
    if (static_cast<int>(left_.size()) < frames) {
      left_.resize(static_cast<std::size_t>(frames));
      right_.resize(static_cast<std::size_t>(frames));
    }
  }

  // Checks a decoded frame and readies the resampler for it; false for an empty frame.
  bool begin_frame(const AVFrame* frame) {
    if (frame->nb_samples <= 0 || frame->sample_rate <= 0) return false;
    decoded_seconds_ += static_cast<double>(frame->nb_samples) / frame->sample_rate;
    if (limits_.max_duration_seconds > 0 && decoded_seconds_ > limits_.max_duration_seconds) {
      throw base::InputError("the audio is longer than the " +
                       seconds_text(limits_.max_duration_seconds) + " limit");
    }
    // Before the resampler is built: its filter grows with the input rate (750 MHz: 2 GiB).
    safety::check_audio_frame(*frame);
    configure_resampler(frame);
    pending_frame_ = true;
    pending_offset_ = 0;
    return true;
  }

  // Resamples the next slice of the pending frame into the FIFO. In slices because a frame
  // may hold millions of samples (its size is the file's to choose) and upsampling 8 kHz at
  // quarter speed makes 24 times as many: converted whole, one frame could take gigabytes.
  void convert_slice() {
    const AVFrame* frame = frame_.get();
    const int frames = std::min(frame->nb_samples - pending_offset_, kSliceFrames);
    const auto format = static_cast<AVSampleFormat>(frame->format);
    const int channels = frame->ch_layout.nb_channels;
    const auto sample_bytes = static_cast<std::size_t>(av_get_bytes_per_sample(format));
    const auto offset = static_cast<std::size_t>(pending_offset_);
    const std::uint8_t* in[safety::kMaxChannels] = {};
    if (av_sample_fmt_is_planar(format)) {
      for (int c = 0; c < channels; ++c) in[c] = frame->extended_data[c] + offset * sample_bytes;
    } else {
      in[0] = frame->extended_data[0] + offset * sample_bytes * static_cast<std::size_t>(channels);
    }
    const int capacity = swr_get_out_samples(swr_.get(), frames);
    reserve_scratch(capacity);
    std::uint8_t* out[2] = {reinterpret_cast<std::uint8_t*>(left_.data()),
                            reinterpret_cast<std::uint8_t*>(right_.data())};
    const int got = swr_convert(swr_.get(), out, capacity, in, frames);
    if (got < 0) throw base::InputError("the audio data is corrupt");
    store(got);
    pending_offset_ += frames;
    if (pending_offset_ >= frame->nb_samples) {
      pending_frame_ = false;
      av_frame_unref(frame_.get());
    }
  }

  void drain_resampler() {
    constexpr int kChunk = 4096;
    reserve_scratch(kChunk);
    for (;;) {
      std::uint8_t* out[2] = {reinterpret_cast<std::uint8_t*>(left_.data()),
                              reinterpret_cast<std::uint8_t*>(right_.data())};
      const int got = swr_convert(swr_.get(), out, kChunk, nullptr, 0);
      if (got <= 0) break;
      store(got);
    }
  }

  void finish() {
    if (finished_) return;
    if (swr_) drain_resampler();
    finished_ = true;
    if (decoded_seconds_ <= 0) throw base::InputError("the file holds no audio that can be decoded");
    const double shortfall = declared_seconds_ - decoded_seconds_;
    if (declared_seconds_ > 0 && shortfall > std::max(0.5, 0.01 * declared_seconds_)) {
      throw base::InputError("the file is truncated: it ends after " + seconds_text(decoded_seconds_) +
                       " of the " + seconds_text(declared_seconds_) + " its header declares");
    }
  }

  demux::Input input_;
  AudioInfo info_;
  InputLimits limits_;
  double speed_ = 1;
  ffmpeg::CodecContextPtr codec_;
  ffmpeg::SwrPtr swr_;
  ffmpeg::FifoPtr fifo_;
  ffmpeg::PacketPtr packet_;
  ffmpeg::FramePtr frame_;
  AVChannelLayout swr_in_layout_{};
  int swr_in_rate_ = 0;
  int swr_in_format_ = -1;
  std::vector<float> left_, right_;  // resampler output before it enters the FIFO
  int out_rate_ = 48000;
  double declared_seconds_ = 0;  // per-stream length from a trustworthy header, else 0
  double decoded_seconds_ = 0;   // of source audio actually decoded
  std::int64_t packets_ = 0;
  std::int64_t errors_ = 0;
  std::int64_t frames_read_ = 0;
  bool pending_frame_ = false;  // frame_ holds samples from pending_offset_ on, not yet converted
  int pending_offset_ = 0;
  bool demux_done_ = false;
  bool finished_ = false;
};

}  // namespace

int decoded_rate(int coded_rate) { return (coded_rate == 44100 || coded_rate == 48000) ? coded_rate : 48000; }

std::unique_ptr<Decoder> Decoder::open(const std::string& path, const DecodeOptions& options) {
  if (!(options.speed >= 0.25 && options.speed <= 4.0)) {
    throw base::UsageError("speed must be between 0.25 and 4");
  }
  return std::make_unique<FfmpegDecoder>(path, options);
}

AudioInfo probe(const std::string& path, const InputLimits& limits) {
  const demux::Input input = demux::open(path, limits);
  return demux::describe(input, path);
}

}  // namespace sy::io
