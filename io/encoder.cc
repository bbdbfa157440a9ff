#include "io/encoder.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "io/encoded_audio_tap.h"
#include "io/ffmpeg_util.h"
#include "io/input_safety.h"
#include "io/tags.h"

extern "C" {
#include <libavutil/opt.h>
#include <libavutil/samplefmt.h>
}

namespace sy::io {
namespace {

using ffmpeg::error_text;

[[noreturn]] void fail(const std::string& what, int err) {
  // A full disk or an I/O error is not the file's fault.
  ffmpeg::throw_if_transient(err, ffmpeg::Direction::kWrite, what);
  throw std::runtime_error(what + ": " + error_text(err));
}

// How each output format is made. WAV is 16-bit PCM, what every player reads; FLAC keeps
// 24 bits, as it costs little there and loses nothing of the float mix.
struct Recipe {
  const char* muxer;
  std::vector<const char*> encoders;  // first available wins
  bool attached_cover;  // the muxer takes the cover as an attached-picture stream
  bool vorbis_cover;    // the cover goes into a METADATA_BLOCK_PICTURE comment
};

Recipe recipe_for(OutputFormat f) {
  switch (f) {
    case OutputFormat::kMp3:
      return {"mp3", {"libmp3lame"}, true, false};
    case OutputFormat::kM4a:
      return {"ipod", {"aac"}, true, false};
    case OutputFormat::kOpus:
      return {"opus", {"libopus", "opus"}, false, true};
    case OutputFormat::kFlac:
      return {"flac", {"flac"}, true, false};
    case OutputFormat::kWav:
      return {"wav", {"pcm_s16le"}, false, false};
    case OutputFormat::kMp4:
    case OutputFormat::kMov:
    case OutputFormat::kMkv:
    case OutputFormat::kWebm:
      // The audio is encoded as audio_format_for(container), then muxed with the picture.
      throw std::logic_error("a video container is written by io::mux_with_video");
  }
  throw std::logic_error("unknown output format");
}

// Prefers planar float (no conversion), then packed float, then the widest integer.
AVSampleFormat pick_sample_format(const AVCodec* codec, OutputFormat f) {
  if (f == OutputFormat::kFlac) return AV_SAMPLE_FMT_S32;
  if (f == OutputFormat::kWav) return AV_SAMPLE_FMT_S16;
  const AVSampleFormat* fmts = codec->sample_fmts;
  if (fmts == nullptr) return AV_SAMPLE_FMT_FLTP;
  for (AVSampleFormat want : {AV_SAMPLE_FMT_FLTP, AV_SAMPLE_FMT_FLT, AV_SAMPLE_FMT_S32P,
                              AV_SAMPLE_FMT_S32, AV_SAMPLE_FMT_S16P, AV_SAMPLE_FMT_S16}) {
    for (const AVSampleFormat* p = fmts; *p != AV_SAMPLE_FMT_NONE; ++p) {
      if (*p == want) return want;
    }
  }
  return fmts[0];
}

// Demuxing drops larger covers; this keeps one handed in by other code from being copied
// (and base64-inflated) into the output too.
bool cover_fits(const CoverArt& cover) {
  return !cover.empty() && static_cast<std::int64_t>(cover.data.size()) <= safety::kMaxCoverBytes;
}

// Muxers need the picture's size for the cover's stream; decoding it also proves the
// picture is sound before it goes into the file. Returns false for an undecodable picture.
bool picture_size(const CoverArt& cover, AVCodecID id, int* width, int* height) {
  const AVCodec* codec = avcodec_find_decoder(id);
  if (codec == nullptr) return false;
  ffmpeg::CodecContextPtr ctx(avcodec_alloc_context3(codec));
  if (!ctx) return false;
  safety::limit_decoder(ctx.get());
  if (avcodec_open2(ctx.get(), codec, nullptr) < 0) return false;
  ffmpeg::PacketPtr pkt = ffmpeg::make_packet();
  if (av_new_packet(pkt.get(), static_cast<int>(cover.data.size())) < 0) return false;
  std::copy(cover.data.begin(), cover.data.end(), pkt->data);
  ffmpeg::FramePtr frame = ffmpeg::make_frame();
  if (avcodec_send_packet(ctx.get(), pkt.get()) < 0) return false;
  avcodec_send_packet(ctx.get(), nullptr);
  if (avcodec_receive_frame(ctx.get(), frame.get()) < 0) return false;
  *width = frame->width;
  *height = frame->height;
  return *width > 0 && *height > 0;
}

// The rate the codec runs at: the input's when the codec takes it, else 48 kHz (or the
// nearest it takes). Opus always runs at 48 kHz.
int pick_sample_rate(const AVCodec* codec, int input_rate) {
  const int* rates = codec->supported_samplerates;
  if (rates == nullptr) return input_rate;
  int nearest = rates[0];
  bool has_48k = false;
  for (const int* r = rates; *r != 0; ++r) {
    if (*r == input_rate) return input_rate;
    has_48k = has_48k || *r == 48000;
    if (std::abs(*r - input_rate) < std::abs(nearest - input_rate)) nearest = *r;
  }
  return has_48k ? 48000 : nearest;
}

class FfmpegEncoder final : public Encoder {
 public:
  FfmpegEncoder(const std::string& path, const EncodeOptions& options, const Metadata& metadata,
                DecodedAudioFn listen)
      : options_(options), frame_(ffmpeg::make_frame()), packet_(ffmpeg::make_packet()) {
    ffmpeg::init();
    if (options.sample_rate < 8000 || options.sample_rate > 384000) {
      throw std::invalid_argument("unsupported sample rate for encoding");
    }
    const Recipe recipe = recipe_for(options.format);
    const FormatInfo& info = format_info(options.format);
    if (info.lossy && options.vbr_quality < 0 &&
        (options.bitrate < info.min_bitrate || options.bitrate > info.max_bitrate)) {
      throw base::UsageError("bitrate for " + std::string(info.name) + " must be between " +
                             bitrate_text(info.min_bitrate) + " and " + bitrate_text(info.max_bitrate));
    }

    AVFormatContext* raw = nullptr;
    int err = avformat_alloc_output_context2(&raw, nullptr, recipe.muxer, nullptr);
    if (err < 0 || raw == nullptr) fail(std::string("no ") + recipe.muxer + " muxer", err);
    context_.reset(raw);

    const AVCodec* codec = nullptr;
    for (const char* name : recipe.encoders) {
      if ((codec = avcodec_find_encoder_by_name(name)) != nullptr) break;
    }
    if (codec == nullptr) throw std::runtime_error("no encoder for " + format_name(options.format));
    open_codec(codec);

    audio_ = avformat_new_stream(context_.get(), nullptr);
    if (audio_ == nullptr) throw std::bad_alloc();
    audio_->time_base = codec_->time_base;
    err = avcodec_parameters_from_context(audio_->codecpar, codec_.get());
    if (err < 0) fail("cannot set up the audio stream", err);

    write_tags(metadata, recipe);
    if (recipe.attached_cover) add_cover_stream(metadata.cover);

    const std::string url = "file:" + path;
    err = avio_open(&context_->pb, url.c_str(), AVIO_FLAG_WRITE);
    if (err < 0) fail("cannot create " + path, err);
    ffmpeg::Options muxer_options;
    if (options.format == OutputFormat::kMp3) {
      muxer_options.set("id3v2_version", "3");  // v2.3: what most players and OSes read
      muxer_options.set("write_xing", "1");     // LAME header: delay/padding for gapless
    }
    err = avformat_write_header(context_.get(), muxer_options.ptr());
    if (err < 0) fail("cannot write the file header", err);
    if (cover_ != nullptr) write_cover(metadata.cover);

    setup_conversion();
    if (listen) tap_ = std::make_unique<EncodedAudioTap>(*codec_, audio_->time_base, std::move(listen));
  }

  void write(const float* const* src, std::size_t frames) override {
    if (finished_) throw std::logic_error("Encoder::write after finish");
    constexpr std::size_t kChunk = 4096;
    for (std::size_t done = 0; done < frames;) {
      const auto n = static_cast<int>(std::min(kChunk, frames - done));
      const std::uint8_t* in[2] = {reinterpret_cast<const std::uint8_t*>(src[0] + done),
                                   reinterpret_cast<const std::uint8_t*>(src[1] + done)};
      convert(in, n);
      done += static_cast<std::size_t>(n);
      encode_full_frames();
    }
  }

  void finish() override {
    if (finished_) return;
    finished_ = true;
    convert(nullptr, 0);  // the resampler's tail
    encode_full_frames();
    if (av_audio_fifo_size(fifo_.get()) > 0) encode_frame(av_audio_fifo_size(fifo_.get()));
    send(nullptr);
    int err = av_write_trailer(context_.get());
    if (err < 0) fail("cannot finish the file", err);
    err = avio_closep(&context_->pb);
    if (err < 0) fail("cannot close the file", err);
    if (tap_) tap_->finish(next_pts_);
  }

 private:
  void open_codec(const AVCodec* codec) {
    codec_.reset(avcodec_alloc_context3(codec));
    if (!codec_) throw std::bad_alloc();
    AVCodecContext* c = codec_.get();
    c->sample_rate = options_.format == OutputFormat::kOpus
                         ? 48000
                         : pick_sample_rate(codec, options_.sample_rate);
    c->ch_layout = ffmpeg::stereo_layout();
    c->sample_fmt = pick_sample_format(codec, options_.format);
    c->time_base = AVRational{1, c->sample_rate};
    if (options_.format == OutputFormat::kFlac) c->bits_per_raw_sample = 24;
    if (format_info(options_.format).lossy) c->bit_rate = options_.bitrate;
    if (options_.format == OutputFormat::kMp3 && options_.vbr_quality >= 0) {
      c->flags |= AV_CODEC_FLAG_QSCALE;
      c->global_quality = std::clamp(options_.vbr_quality, 0, 9) * FF_QP2LAMBDA;
      c->bit_rate = 0;
    }
    if (options_.format == OutputFormat::kMp3 && options_.mp3_quality >= 0)
      c->compression_level = std::clamp(options_.mp3_quality, 0, 9);
    if (options_.format == OutputFormat::kOpus && codec->id == AV_CODEC_ID_OPUS &&
        std::string(codec->name) == "opus") {
      c->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL;  // FFmpeg's own Opus encoder
    }
    if ((context_->oformat->flags & AVFMT_GLOBALHEADER) != 0) {
      c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    const int err = avcodec_open2(c, codec, nullptr);
    if (err < 0) fail(std::string("cannot open the ") + codec->name + " encoder", err);
    frame_size_ = c->frame_size > 0 ? c->frame_size : 4096;
    const int caps = codec->capabilities;
    pad_last_frame_ =
        (caps & (AV_CODEC_CAP_SMALL_LAST_FRAME | AV_CODEC_CAP_VARIABLE_FRAME_SIZE)) == 0 &&
        c->frame_size > 0;
  }

  void write_tags(const Metadata& metadata, const Recipe& recipe) {
    for (const auto& [key, value] : metadata.tags) {
      if (tags::is_stale_after_reencode(key) || value.empty()) continue;
      av_dict_set(&context_->metadata, key.c_str(), value.c_str(), 0);
    }
    if (recipe.vorbis_cover && cover_fits(metadata.cover)) {
      av_dict_set(&context_->metadata, "METADATA_BLOCK_PICTURE",
                  tags::base64(tags::flac_picture_block(metadata.cover)).c_str(), 0);
    }
  }

  void add_cover_stream(const CoverArt& cover) {
    const AVCodecID id = tags::codec_for_mime(cover.mime);
    int width = 0, height = 0;
    if (!cover_fits(cover) || id == AV_CODEC_ID_NONE || !picture_size(cover, id, &width, &height)) {
      return;  // a song without its picture beats no song
    }
    cover_ = avformat_new_stream(context_.get(), nullptr);
    if (cover_ == nullptr) throw std::bad_alloc();
    cover_->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
    cover_->codecpar->codec_id = id;
    cover_->codecpar->width = width;
    cover_->codecpar->height = height;
    cover_->disposition = AV_DISPOSITION_ATTACHED_PIC;
    cover_->time_base = AVRational{1, 90000};
    av_dict_set(&cover_->metadata, "comment", "Cover (front)", 0);
  }

  void write_cover(const CoverArt& cover) {
    ffmpeg::PacketPtr pkt = ffmpeg::make_packet();
    if (av_new_packet(pkt.get(), static_cast<int>(cover.data.size())) < 0) throw std::bad_alloc();
    std::copy(cover.data.begin(), cover.data.end(), pkt->data);
    pkt->stream_index = cover_->index;
    pkt->flags |= AV_PKT_FLAG_KEY;
    pkt->pts = pkt->dts = 0;
    const int err = av_write_frame(context_.get(), pkt.get());
    if (err < 0) fail("cannot write the cover art", err);
  }

  void setup_conversion() {
    SwrContext* raw = nullptr;
    AVChannelLayout stereo = ffmpeg::stereo_layout();
    int err = swr_alloc_set_opts2(&raw, &stereo, codec_->sample_fmt, codec_->sample_rate, &stereo,
                                  AV_SAMPLE_FMT_FLTP, options_.sample_rate, 0, nullptr);
    if (err < 0) fail("cannot set up sample conversion", err);
    swr_.reset(raw);
    err = swr_init(swr_.get());
    if (err < 0) fail("cannot set up sample conversion", err);
    fifo_.reset(av_audio_fifo_alloc(codec_->sample_fmt, 2, frame_size_ * 2));
    if (!fifo_) throw std::bad_alloc();
  }

  // Converts (and for Opus resamples) into the FIFO; in == nullptr drains the resampler.
  void convert(const std::uint8_t** in, int frames) {
    const int capacity = swr_get_out_samples(swr_.get(), frames) + 32;
    const int planes = av_sample_fmt_is_planar(codec_->sample_fmt) ? 2 : 1;
    const int plane_bytes =
        capacity * av_get_bytes_per_sample(codec_->sample_fmt) * (planes == 2 ? 1 : 2);
    for (auto& p : scratch_) {
      if (static_cast<int>(p.size()) < plane_bytes) p.resize(static_cast<std::size_t>(plane_bytes));
    }
    std::uint8_t* out[2] = {scratch_[0].data(), scratch_[1].data()};
    for (;;) {
      const int got = swr_convert(swr_.get(), out, capacity, in, frames);
      if (got < 0) fail("sample conversion failed", got);
      if (got > 0) {
        void* data[2] = {out[0], out[1]};
        if (av_audio_fifo_write(fifo_.get(), data, got) < got) throw std::bad_alloc();
      }
      if (in != nullptr || got == 0) break;
    }
  }

  void encode_full_frames() {
    while (av_audio_fifo_size(fifo_.get()) >= frame_size_) encode_frame(frame_size_);
  }

  void encode_frame(int frames) {
    av_frame_unref(frame_.get());
    AVFrame* f = frame_.get();
    const int samples = pad_last_frame_ ? frame_size_ : frames;
    f->nb_samples = samples;
    f->format = codec_->sample_fmt;
    f->sample_rate = codec_->sample_rate;
    if (av_channel_layout_copy(&f->ch_layout, &codec_->ch_layout) < 0) throw std::bad_alloc();
    int err = av_frame_get_buffer(f, 0);
    if (err < 0) throw std::bad_alloc();
    if (samples > frames) {
      av_samples_set_silence(f->extended_data, frames, samples - frames, 2, codec_->sample_fmt);
    }
    if (av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(f->extended_data), frames) <
        frames) {
      throw std::runtime_error("audio FIFO read failed");
    }
    f->pts = next_pts_;
    next_pts_ += frames;
    send(f);
  }

  void send(const AVFrame* frame) {
    int err = avcodec_send_frame(codec_.get(), frame);
    if (err < 0) fail("encoding failed", err);
    for (;;) {
      err = avcodec_receive_packet(codec_.get(), packet_.get());
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return;
      if (err < 0) fail("encoding failed", err);
      av_packet_rescale_ts(packet_.get(), codec_->time_base, audio_->time_base);
      packet_->stream_index = audio_->index;
      if (tap_) tap_->put(*packet_, next_pts_);
      // One audio stream (the cover went out first): packets leave the encoder in order,
      // so no interleaving queue is needed.
      err = av_write_frame(context_.get(), packet_.get());
      av_packet_unref(packet_.get());
      if (err < 0) fail("cannot write audio", err);
    }
  }

  EncodeOptions options_;
  ffmpeg::OutputContextPtr context_;
  ffmpeg::CodecContextPtr codec_;
  ffmpeg::SwrPtr swr_;
  ffmpeg::FifoPtr fifo_;
  ffmpeg::FramePtr frame_;
  ffmpeg::PacketPtr packet_;
  AVStream* audio_ = nullptr;  // owned by context_
  AVStream* cover_ = nullptr;  // owned by context_; null without cover art
  std::vector<std::uint8_t> scratch_[2];
  int frame_size_ = 4096;
  bool pad_last_frame_ = false;
  std::int64_t next_pts_ = 0;
  bool finished_ = false;
  std::unique_ptr<EncodedAudioTap> tap_;  // last: its thread stops before the rest goes
};

}  // namespace

std::unique_ptr<Encoder> Encoder::open(const std::string& path, const EncodeOptions& options,
                                       const Metadata& metadata, DecodedAudioFn listen) {
  return std::make_unique<FfmpegEncoder>(path, options, metadata, std::move(listen));
}

}  // namespace sy::io
