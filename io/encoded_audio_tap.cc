#include "io/encoded_audio_tap.h"

#include <algorithm>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <utility>

#include "io/decoder.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace sy::io {
namespace {
// Packets waiting for the thread (an MP3 packet is 26 ms): enough to ride out a stall,
// bounded so that memory does not grow with the song.
constexpr std::size_t kMaxQueued = 256;
// The encoder wakes this thread once this many packets wait (or at the end), and the thread
// then decodes all that are queued: woken for every packet (an MP3 frame is 1,152 samples),
// a 58-s song cost 3,000 context switches against 500 without the tap, and two renders
// sharing two cores lost more to them than the decode itself costs.
constexpr std::size_t kWakeBatch = 32;
// Samples converted at a time, as the file decoder does.
constexpr int kSliceFrames = 4096;

[[noreturn]] void fail(const char* what, int err) {
  throw std::runtime_error(std::string("checking the encoded audio: ") + what + ": " + ffmpeg::error_text(err));
}
}  // namespace

EncodedAudioTap::EncodedAudioTap(const AVCodecContext& encoder, AVRational time_base, DecodedAudioFn listen)
    : listen_(std::move(listen)),
      frame_(ffmpeg::make_frame()),
      out_rate_(decoded_rate(encoder.sample_rate)),
      priming_(std::max(encoder.initial_padding, 0)) {
  // The decoder a reader of the file picks, set up from what the muxer writes.
  const AVCodec* codec = avcodec_find_decoder(encoder.codec_id);
  if (codec == nullptr) throw std::runtime_error("checking the encoded audio: no decoder");
  decoder_.reset(avcodec_alloc_context3(codec));
  if (!decoder_) throw std::bad_alloc();
  AVCodecParameters* par = avcodec_parameters_alloc();
  if (par == nullptr) throw std::bad_alloc();
  int err = avcodec_parameters_from_context(par, &encoder);
  if (err >= 0) err = avcodec_parameters_to_context(decoder_.get(), par);
  avcodec_parameters_free(&par);
  if (err < 0) fail("cannot set up the decoder", err);
  decoder_->pkt_timebase = time_base;
  err = avcodec_open2(decoder_.get(), codec, nullptr);
  if (err < 0) fail("cannot open the decoder", err);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sy-check");
    run();
  });
}

EncodedAudioTap::~EncodedAudioTap() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EncodedAudioTap::put(const AVPacket& packet, std::int64_t coded_frames) {
  // FLAC's last word is an empty packet carrying the final stream header: to a decoder an
  // empty packet means the end.
  if (packet.size <= 0) return;
  ffmpeg::PacketPtr copy = ffmpeg::make_packet();
  if (av_packet_ref(copy.get(), &packet) < 0) throw std::bad_alloc();
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queue_.size() < kMaxQueued || failed_; });
  // At once: the rest of the song would be encoded for nothing.
  if (failed_) std::rethrow_exception(error_);
  queue_.push_back({std::move(copy), coded_frames});
  const bool wake = queue_.size() >= kWakeBatch;
  lock.unlock();
  if (wake) changed_.notify_all();
}

void EncodedAudioTap::finish(std::int64_t coded_frames) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({nullptr, coded_frames});
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
}

void EncodedAudioTap::run() {
  try {
    std::deque<Item> batch;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (stopping_) return;
        batch.swap(queue_);
      }
      changed_.notify_all();
      for (Item& item : batch) {
        if (stopping_) return;
        decode(item.packet.get(), item.coded_frames);
        if (!item.packet) return;
      }
      batch.clear();
    }
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
    failed_ = true;
    queue_.clear();
  }
  changed_.notify_all();
}

void EncodedAudioTap::decode(const AVPacket* packet, std::int64_t coded_frames) {
  if (first_packet_ && packet != nullptr) {
    first_packet_ = false;
    // The decoder drops the priming itself where the encoder marks it on its first packet
    // (LAME) or the stream header tells the decoder (Opus's pre-skip); elsewhere (FFmpeg's
    // AAC) only the container's header says it, so it goes here.
    if (av_packet_get_side_data(packet, AV_PKT_DATA_SKIP_SAMPLES, nullptr) != nullptr ||
        decoder_->codec_id == AV_CODEC_ID_OPUS)
      priming_ = 0;
  }
  int err = avcodec_send_packet(decoder_.get(), packet);
  if (err < 0) fail("the encoder's packet does not decode", err);
  for (;;) {
    err = avcodec_receive_frame(decoder_.get(), frame_.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) break;
    if (err < 0) fail("the encoder's packet does not decode", err);
    hand_over(*frame_, coded_frames);
    av_frame_unref(frame_.get());
  }
  if (packet == nullptr && swr_) {
    // The resampler's tail, as the file decoder drains it at the end.
    for (;;) {
      left_.resize(kSliceFrames);
      right_.resize(kSliceFrames);
      std::uint8_t* out[2] = {reinterpret_cast<std::uint8_t*>(left_.data()),
                              reinterpret_cast<std::uint8_t*>(right_.data())};
      const int got = swr_convert(swr_.get(), out, kSliceFrames, nullptr, 0);
      if (got <= 0) break;
      const float* planes[2] = {left_.data(), right_.data()};
      listen_(out_rate_, planes, static_cast<std::size_t>(got));
    }
  }
}

void EncodedAudioTap::hand_over(const AVFrame& frame, std::int64_t coded_frames) {
  // The encoder writes stereo only; anything else would be read past its planes below and in
  // the resampler.
  if (frame.ch_layout.nb_channels != 2)
    throw std::runtime_error("checking the encoded audio: the decoder gave " +
                             std::to_string(frame.ch_layout.nb_channels) + " channels, not 2");
  // The samples of this frame a reader of the file gets: after the encoder's priming, before
  // its padding past the last sample it was given.
  const std::int64_t first = std::min<std::int64_t>(priming_, frame.nb_samples);
  priming_ -= first;
  const std::int64_t end =
      std::min<std::int64_t>(frame.nb_samples, first + std::max<std::int64_t>(coded_frames - position_, 0));
  position_ += end - first;
  if (end <= first) return;
  if (frame.format == AV_SAMPLE_FMT_FLTP && frame.sample_rate == out_rate_ && !swr_) {
    // Already what the file decoder hands out (MP3, AAC, Opus at 48 kHz): its resampler
    // would only copy it.
    const float* planes[2] = {reinterpret_cast<const float*>(frame.extended_data[0]) + first,
                              reinterpret_cast<const float*>(frame.extended_data[1]) + first};
    listen_(out_rate_, planes, static_cast<std::size_t>(end - first));
    return;
  }
  if (!swr_) {
    // Configured as the file decoder configures its resampler for a stereo stream.
    SwrContext* raw = nullptr;
    AVChannelLayout stereo = ffmpeg::stereo_layout(), in_layout = ffmpeg::stereo_layout();
    int err = swr_alloc_set_opts2(&raw, &stereo, AV_SAMPLE_FMT_FLTP, out_rate_, &in_layout,
                                  static_cast<AVSampleFormat>(frame.format), frame.sample_rate, 0, nullptr);
    if (err < 0) fail("cannot set up sample conversion", err);
    swr_.reset(raw);
    av_opt_set_int(swr_.get(), "exact_rational", 1, 0);
    err = swr_init(swr_.get());
    if (err < 0) fail("cannot set up sample conversion", err);
  }
  const auto format = static_cast<AVSampleFormat>(frame.format);
  const auto sample_bytes = static_cast<std::size_t>(av_get_bytes_per_sample(format));
  const bool planar = av_sample_fmt_is_planar(format) != 0;
  for (std::int64_t at = first; at < end;) {
    const int n = static_cast<int>(std::min<std::int64_t>(end - at, kSliceFrames));
    const auto offset = static_cast<std::size_t>(at) * sample_bytes;
    const std::uint8_t* in[2] = {};
    if (planar) {
      in[0] = frame.extended_data[0] + offset;
      in[1] = frame.extended_data[1] + offset;
    } else {
      in[0] = frame.extended_data[0] + offset * 2;
    }
    const int capacity = swr_get_out_samples(swr_.get(), n);
    left_.resize(static_cast<std::size_t>(std::max(capacity, 1)));
    right_.resize(left_.size());
    std::uint8_t* out[2] = {reinterpret_cast<std::uint8_t*>(left_.data()),
                            reinterpret_cast<std::uint8_t*>(right_.data())};
    const int got = swr_convert(swr_.get(), out, capacity, in, n);
    if (got < 0) fail("sample conversion failed", got);
    if (got > 0) {
      const float* planes[2] = {left_.data(), right_.data()};
      listen_(out_rate_, planes, static_cast<std::size_t>(got));
    }
    at += n;
  }
}

}  // namespace sy::io
