#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string_view>

#include "base/errors.h"
#include "io/encoder.h"

namespace sy::io {
namespace {

// Bit-rate ranges are the encoders' own: LAME's MPEG-1 Layer III rates at 32–48 kHz
// (32–320 kbit/s), libopus's 6–510 kbit/s; FFmpeg's AAC encoder takes up to its per-channel
// maximum (about 256 kbit/s a channel at 44.1 kHz), so 512k for stereo.
constexpr std::array<FormatInfo, 9> kFormats{{
    {OutputFormat::kMp3, "mp3", ".mp3", "MP3 (LAME)", true, 32000, 320000, 192000},
    {OutputFormat::kM4a, "m4a", ".m4a", "AAC in MP4", true, 32000, 512000, 192000},
    {OutputFormat::kOpus, "opus", ".opus", "Opus in Ogg", true, 6000, 510000, 192000},
    {OutputFormat::kFlac, "flac", ".flac", "FLAC (lossless)", false, 0, 0, 0},
    {OutputFormat::kWav, "wav", ".wav", "16-bit PCM WAV (uncompressed)", false, 0, 0, 0},
    // Video containers: the bit rate is the audio's (AAC in MP4/MOV, Opus in WebM/MKV).
    {OutputFormat::kMp4, "mp4", ".mp4", "MP4 video (picture copied) with AAC", true, 32000, 512000, 192000, true},
    {OutputFormat::kMov, "mov", ".mov", "QuickTime video (picture copied) with AAC", true, 32000, 512000, 192000, true},
    {OutputFormat::kMkv, "mkv", ".mkv", "Matroska video (picture copied) with Opus", true, 6000, 510000, 192000, true},
    {OutputFormat::kWebm, "webm", ".webm", "WebM video (picture copied) with Opus", true, 6000, 510000, 192000, true},
}};

// Other spellings people use for the same output. Not "ogg": to most people and players it
// means Vorbis, which we do not write; giving them Opus under that name surprised them.
constexpr std::array<std::pair<std::string_view, OutputFormat>, 3> kAliases{
    {{"aac", OutputFormat::kM4a}, {"wave", OutputFormat::kWav}, {"matroska", OutputFormat::kMkv}}};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool lookup(const std::string& name, OutputFormat* out) {
  for (const auto& f : kFormats) {
    if (f.name == name) {
      *out = f.format;
      return true;
    }
  }
  for (const auto& [alias, format] : kAliases) {
    if (alias == name) {
      *out = format;
      return true;
    }
  }
  return false;
}

}  // namespace

std::span<const FormatInfo> output_formats() { return kFormats; }

const FormatInfo& format_info(OutputFormat f) {
  for (const auto& e : kFormats) {
    if (e.format == f) return e;
  }
  return kFormats[0];
}

std::string format_names() {
  std::string out;
  for (std::size_t i = 0; i < kFormats.size(); ++i) {
    if (i > 0) out += i + 1 == kFormats.size() ? " or " : ", ";
    out += kFormats[i].name;
  }
  return out;
}

OutputFormat parse_format(const std::string& name) {
  OutputFormat f{};
  const std::string wanted = lower(name);
  if (lookup(wanted, &f)) return f;
  if (wanted == "ogg" || wanted == "oga" || wanted == "vorbis") {
    throw base::UsageError("we do not write Ogg Vorbis ('" + name + "'); opus writes Opus in an Ogg file (use " +
                           format_names() + ")");
  }
  throw base::UsageError("unknown output format '" + name + "' (use " + format_names() + ")");
}

std::string format_name(OutputFormat f) { return std::string(format_info(f).name); }
std::string format_extension(OutputFormat f) { return std::string(format_info(f).extension); }

bool format_from_path(const std::string& path, OutputFormat* out) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return false;
  return lookup(lower(std::string_view(path).substr(dot + 1)), out);
}

std::string bitrate_text(int bits_per_second) {
  if (bits_per_second % 1000 == 0) return std::to_string(bits_per_second / 1000) + "k";
  return std::to_string(bits_per_second);
}

int parse_bitrate(const std::string& text, OutputFormat f, std::string_view what) {
  std::string t = lower(text);
  double scale = 1;
  if (!t.empty() && t.back() == 'k') {
    scale = 1000;
    t.pop_back();
  }
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != t.size() || !std::isfinite(v) || v <= 0)
    throw std::invalid_argument(std::string(what) + " must look like 192k (got '" + text + "')");
  // "--bitrate 320" means 320k: nobody wants 320 bits per second.
  if (scale == 1 && v < 1000) scale = 1000;
  const double bps = std::round(v * scale);
  const FormatInfo& info = format_info(f);
  if (!info.lossy) return info.default_bitrate;
  if (bps < info.min_bitrate || bps > info.max_bitrate) {
    throw std::invalid_argument(std::string(what) + " for " + std::string(info.name) + " must be between " +
                                bitrate_text(info.min_bitrate) + " and " + bitrate_text(info.max_bitrate) +
                                " (got " + text + ")");
  }
  return static_cast<int>(bps);
}

}  // namespace sy::io
