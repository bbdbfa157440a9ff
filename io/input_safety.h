#pragma once
// Bounds on what an untrusted file may ask of us. A header is a few bytes an attacker writes
// freely; these checks refuse what it claims before FFmpeg or the resampler spends memory or
// time on the claim. Fixed, not configurable: no real song comes near them.
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
}

namespace sy::io::safety {

// Sample rates a real recording uses; 384 kHz is the highest studio rate (DXD x 2).
inline constexpr int kMinSampleRate = 8000;
inline constexpr int kMaxSampleRate = 384000;
// Third-order ambisonics plus height layers stays far below this.
inline constexpr int kMaxChannels = 64;
// Cover art larger than this is dropped (with a warning): a 3000x3000 JPEG is ~3 MB.
inline constexpr std::int64_t kMaxCoverBytes = 16LL << 20;
// No single allocation inside FFmpeg may exceed this. The largest a real file needs is an
// Ogg page buffer holding a 16 MiB cover as base64 (~21 MiB, doubled to 32 MiB); a header
// field that asks for more (a resampler filter for a 750 MHz "rate", a 2 GiB sample
// table, a 4 GiB compressed tag) is refused by FFmpeg's own allocator.
inline constexpr std::size_t kMaxAllocationBytes = 48u << 20;
// Samples times channels in one decoded frame. FLAC's largest frame is 65535 x 8; PCM
// packets are a few thousand frames.
inline constexpr std::int64_t kMaxSamplesPerFrame = 1 << 22;
// Pixels of a picture FFmpeg decodes (cover art while reading stream info, and again to
// learn its size before it is written): 6000 x 6000.
inline constexpr std::int64_t kMaxPicturePixels = 6000LL * 6000;
// Header fields that size buffers: bytes per block (WAV's nBlockAlign, CAF's packet size)
// and samples per packet. Real ones are at most tens of kilobytes / 300k samples (APE).
inline constexpr int kMaxBlockAlign = 1 << 20;
inline constexpr int kMaxFrameSize = 1 << 20;
// Text tags: one value (lyrics run to a few kilobytes) and how many are kept.
inline constexpr std::size_t kMaxTagValueBytes = 64u << 10;
inline constexpr std::size_t kMaxTags = 256;
// ID3v2 frames FFmpeg may read into memory across the whole file (room for two covers at
// the limit plus text), and tag entries in all tags together: ID3 frame headers, Vorbis
// comments (FLAC, Ogg) and RIFF INFO items. FFmpeg files each entry in a dictionary searched
// linearly, so n entries cost n^2/2 comparisons: 20,000 took 4-9 s an open, 65,536 minutes.
// Real files carry tens; a podcast with its chapters a few hundred.
inline constexpr std::int64_t kMaxTagBytes = 40LL << 20;
inline constexpr std::int64_t kMaxTagEntries = 4096;
// Codec setup data (a Vorbis comment header with a 16 MiB cover is ~22 MiB).
inline constexpr int kMaxExtradataBytes = 32 << 20;

// Sets FFmpeg's per-allocation ceiling (av_max_alloc) once per process.
void cap_ffmpeg_allocations();

// Throws base::InputError with a sentence for people when an audio stream's parameters are
// outside the bounds above. Unknown values (0, before the stream info is read) pass.
void check_audio_parameters(const AVCodecParameters& par);
// The same for what a decoder actually delivers (chained Ogg and some codecs change the
// rate or layout mid-stream), before a resampler is built for it.
void check_audio_frame(const AVFrame& frame);

// FFmpeg reports an allocation over kMaxAllocationBytes (or over an address-space limit
// the process runs under) as ENOMEM; to a person that is this sentence.
bool is_out_of_memory(int averror);
inline constexpr const char* kNeedsTooMuchMemory =
    "the file needs more memory than allowed (an oversized embedded picture or a damaged header)";

// Puts the per-frame sample and picture-size bounds on a decoder about to be opened.
void limit_decoder(AVCodecContext* codec);
// The same bounds as options for avformat_find_stream_info(), which opens decoders itself.
// Returns a dictionary the caller frees with av_dict_free.
AVDictionary* decoder_limit_options();

}  // namespace sy::io::safety
