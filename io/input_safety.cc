#include "io/input_safety.h"

#include <cerrno>
#include <mutex>

#include "base/errors.h"

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

namespace sy::io::safety {
namespace {

std::string rate_text(int hz) {
  if (hz % 1000 == 0) return std::to_string(hz / 1000) + " kHz";
  return std::to_string(hz) + " Hz";
}

void check_rate(int hz) {
  if (hz == 0) return;
  if (hz < kMinSampleRate || hz > kMaxSampleRate) {
    throw base::InputError("the audio's sample rate (" + rate_text(hz) + ") is outside the " +
                           rate_text(kMinSampleRate) + " to " + rate_text(kMaxSampleRate) +
                           " a recording can have");
  }
}

void check_channels(int channels) {
  if (channels > kMaxChannels) {
    throw base::InputError("the audio claims " + std::to_string(channels) +
                           " channels; at most " + std::to_string(kMaxChannels) +
                           " are accepted");
  }
}

}  // namespace

void cap_ffmpeg_allocations() {
  static std::once_flag once;
  std::call_once(once, [] { av_max_alloc(kMaxAllocationBytes); });
}

void check_audio_parameters(const AVCodecParameters& par) {
  check_rate(par.sample_rate);
  check_channels(par.ch_layout.nb_channels);
  if (par.block_align < 0 || par.block_align > kMaxBlockAlign) {
    throw base::InputError("the audio stream's header is implausible (blocks of " +
                           std::to_string(par.block_align) + " bytes)");
  }
  if (par.frame_size < 0 || par.frame_size > kMaxFrameSize) {
    throw base::InputError("the audio stream's header is implausible (" +
                           std::to_string(par.frame_size) + " samples per packet)");
  }
  if (par.extradata_size < 0 || par.extradata_size > kMaxExtradataBytes) {
    throw base::InputError("the audio stream's codec header is implausibly large");
  }
}

void check_audio_frame(const AVFrame& frame) {
  check_rate(frame.sample_rate);
  check_channels(frame.ch_layout.nb_channels);
}

bool is_out_of_memory(int averror) { return averror == AVERROR(ENOMEM); }

void limit_decoder(AVCodecContext* codec) {
  codec->max_samples = kMaxSamplesPerFrame;
  codec->max_pixels = kMaxPicturePixels;
}

AVDictionary* decoder_limit_options() {
  AVDictionary* options = nullptr;
  av_dict_set_int(&options, "max_samples", kMaxSamplesPerFrame, 0);
  av_dict_set_int(&options, "max_pixels", kMaxPicturePixels, 0);
  return options;
}

}  // namespace sy::io::safety
