#pragma once
// Streaming audio encoding and muxing through FFmpeg's libraries.
#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "io/metadata.h"

namespace sy::io {

// kMp4 ... kWebm are video containers: a video's picture copied untouched beside the 8D audio
// (io/video_mux.h); an input without a picture gives an audio-only file of that container.
enum class OutputFormat { kMp3, kM4a, kOpus, kFlac, kWav, kMp4, kMov, kMkv, kWebm };

// The one table of what we write (io/formats.cc): the CLI, the API, the settings schema and
// the web page's check all read it, so a format's name, extension and bit rates are said once.
struct FormatInfo {
  OutputFormat format;
  std::string_view name;       // "mp3": --format, the API's `format`
  std::string_view extension;  // ".mp3"
  std::string_view codec;      // what is inside, for people: "MP3 (LAME)"
  bool lossy;
  // Bits per second a lossy encoder takes; 0 for lossless formats (a bit rate is ignored).
  int min_bitrate, max_bitrate, default_bitrate;
  bool video = false;          // a video container (the picture is copied, not encoded)
};
std::span<const FormatInfo> output_formats();
const FormatInfo& format_info(OutputFormat f);

// "mp3" -> kMp3 ... ; throws base::UsageError for an unknown name.
OutputFormat parse_format(const std::string& name);
std::string format_name(OutputFormat f);       // "mp3"
std::string format_extension(OutputFormat f);  // ".mp3"
// "mp3, m4a, opus, flac or wav": for messages.
std::string format_names();
// From a file name's extension; returns false if it names no format we write.
bool format_from_path(const std::string& path, OutputFormat* out);
// "192k", "192", "192000" -> 192000 (a number below 1000 means kbit/s). Throws
// std::invalid_argument with `what` ("--bitrate", "bitrate") in the message when it is not
// a bit rate, or out of `f`'s range (lossless formats take any and ignore it).
int parse_bitrate(const std::string& text, OutputFormat f, std::string_view what);
// 192000 -> "192k".
std::string bitrate_text(int bits_per_second);

struct EncodeOptions {
  OutputFormat format = OutputFormat::kMp3;
  int bitrate = 192000;     // bits per second, CBR, for lossy formats
  int vbr_quality = -1;     // MP3 only: LAME VBR quality 0 (best) .. 9; -1 means CBR
  int sample_rate = 48000;  // of the audio handed to write(); Opus resamples to 48 kHz itself
  int mp3_quality = -1;     // MP3 only: LAME's algorithm quality 0 (best, slowest) .. 9; -1 LAME's default (3)
};

// Decoded audio of a file being written, as a reader of the file will get it: at
// decoded_rate() of the codec's rate, in order, in pieces of any size.
using DecodedAudioFn = std::function<void(int sample_rate, const float* const* planes, std::size_t frames)>;

// Writes stereo planar float to `path` with the tags and cover art of `metadata`
// (the caller adjusts the title). MP3 gets a LAME/Xing header with encoder delay and
// padding so gapless decoders give back exactly the frames written.
// Throws std::runtime_error on failure; the caller removes the partial file.
class Encoder {
 public:
  // With `listen`, the encoder's own packets are also decoded, on a thread of its own while
  // it encodes, and handed to it there: the same audio a Decoder gives back from the
  // finished file (encoder_test.cc), without reading the file again. finish() returns once
  // `listen` has had all of it; what `listen` throws, write() or finish() rethrows at the
  // next packet.
  static std::unique_ptr<Encoder> open(const std::string& path, const EncodeOptions& options,
                                       const Metadata& metadata, DecodedAudioFn listen = {});
  virtual ~Encoder() = default;
  virtual void write(const float* const* src, std::size_t frames) = 0;
  // Flushes the encoder and writes the trailer. Must be called once for a valid file.
  virtual void finish() = 0;
};

}  // namespace sy::io
