#include "io/demux.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <vector>

#include "base/errors.h"
#include "base/sizes.h"
#include "io/input_safety.h"
#include "io/tag_guard.h"
#include "io/tags.h"

namespace sy::io::demux {
namespace {

// Audio files and the usual video containers (their first audio stream is used).
// Anything that can reference other files or URLs (hls, concat, dash, image2, ...) is
// absent on purpose.
constexpr const char* kAllowedFormats =
    "mp3,wav,w64,flac,ogg,mov,mp4,m4a,matroska,webm,aiff,aac,caf,wv,ape,au,tta,asf,avi,"
    "mpeg,mpegts,ac3,eac3,dts,truehd,mlp,loas,amr,wsaud,voc,dsf";
constexpr const char* kProbeSize = "5000000";        // bytes read to recognise streams
constexpr const char* kAnalyzeDuration = "5000000";  // microseconds of stream analysed
// CPU time opening a file (header, tags, stream info) may take. Real files take well under
// 0.1 s, hours of video in MP4 a few tenths; what takes longer is a header built to cost.
constexpr double kOpenCpuSeconds = 2;

std::string mebibytes(std::int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// av_match_list() semantics: any comma-separated name of `names` is in `allowed`.
bool any_name_allowed(const char* names) { return av_match_list(names, kAllowedFormats, ',') > 0; }

std::string unreadable(int averror) {
  if (safety::is_out_of_memory(averror)) return safety::kNeedsTooMuchMemory;
  return "cannot read the file: it is damaged or not a supported audio file";
}

// Every audio stream, not only the one we decode: reading the stream info decodes them all.
void check_audio_streams(const AVFormatContext* ctx) {
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    const AVCodecParameters* par = ctx->streams[i]->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_AUDIO) safety::check_audio_parameters(*par);
  }
}

// avformat_find_stream_info() opens a decoder per stream (cover art included) with the
// options it is given; without these a picture header can ask for gigapixels.
int find_stream_info(AVFormatContext* ctx) {
  std::vector<AVDictionary*> options(ctx->nb_streams, nullptr);
  for (auto& o : options) o = safety::decoder_limit_options();
  const int err = avformat_find_stream_info(ctx, options.data());
  for (auto& o : options) av_dict_free(&o);
  return err;
}

// Refuses the file once opening it ran out of CPU time (InputFile::limit_cpu): whatever FFmpeg
// made of it by then is incomplete.
void check_open_cost(const InputFile& file) {
  if (file.over_cpu_limit()) {
    throw base::InputError("the file's header is implausible (reading it took over " +
                           std::to_string(static_cast<int>(kOpenCpuSeconds)) + " s; thousands of tags?)");
  }
}

std::int64_t check_file(const std::string& path, const InputLimits& limits) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    if (ec && ec != std::errc::no_such_file_or_directory) {
      if (base::is_transient_errno(ec.value())) base::throw_errno(ec.value(), "cannot read the file");
      throw base::InputError("cannot read the file: " + ec.message());
    }
    throw base::InputError("file not found");
  }
  if (fs::is_directory(status)) throw base::InputError("is a directory, not an audio file");
  if (!fs::is_regular_file(status)) throw base::InputError("not a regular file");
  const auto size = static_cast<std::int64_t>(fs::file_size(path, ec));
  if (ec) throw base::InputError("cannot read the file: " + ec.message());
  if (size == 0) throw base::InputError("the file is empty");
  if (limits.max_bytes > 0 && size > limits.max_bytes) {
    throw base::InputError("the file is " + base::size_text(size) + ", over the " +
                     base::size_text(limits.max_bytes) + " limit");
  }
  return size;
}

// Recognises the format from the first bytes only, so a playlist or a script is refused
// without FFmpeg ever acting on it.
const AVInputFormat* recognise(const std::string& url) {
  ffmpeg::Options options;
  options.set("protocol_whitelist", "file");
  AVIOContext* io = nullptr;
  int err = avio_open2(&io, url.c_str(), AVIO_FLAG_READ, nullptr, options.ptr());
  ffmpeg::throw_if_transient(err, ffmpeg::Direction::kRead, "cannot read the file");
  if (err < 0) throw base::InputError("cannot read the file: " + ffmpeg::error_text(err));
  const AVInputFormat* format = nullptr;
  err = av_probe_input_buffer2(io, &format, url.c_str(), nullptr, 0, 1 << 20);
  avio_closep(&io);
  if (err < 0 || format == nullptr) {
    throw base::InputError("not an audio file (the format is not recognised)");
  }
  if (!any_name_allowed(format->name)) {
    const std::string name = format->name;
    if (name == "image2" || name.find("_pipe") != std::string::npos) {
      throw base::InputError("not an audio file (it is a picture)");
    }
    if (name == "tty" || name == "srt" || name == "webvtt" || name == "ass") {
      throw base::InputError("not an audio file (it is text)");
    }
    const char* what = format->long_name != nullptr ? format->long_name : format->name;
    throw base::InputError(std::string("unsupported file type: ") + what);
  }
  return format;
}

std::string cover_too_big(std::int64_t bytes) {
  return "the cover art (" + mebibytes(bytes) + ") is over the " +
         std::to_string(safety::kMaxCoverBytes >> 20) + " MiB limit and was left out";
}

// The first attached picture we can carry becomes the cover. One over the size limit is left
// out before a byte of it is copied.
void pick_cover(const AVFormatContext* ctx, AudioInfo* info) {
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    const AVStream* pic = ctx->streams[i];
    if ((pic->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0 || pic->attached_pic.size <= 0) {
      continue;
    }
    std::string mime = tags::mime_for_codec(pic->codecpar->codec_id);
    if (mime.empty()) continue;
    if (pic->attached_pic.size > safety::kMaxCoverBytes) {
      info->warnings.push_back(cover_too_big(pic->attached_pic.size));
      continue;
    }
    info->metadata.cover.mime = std::move(mime);
    info->metadata.cover.data.assign(pic->attached_pic.data,
                                     pic->attached_pic.data + pic->attached_pic.size);
    return;
  }
}

// Renames the tag parts FFmpeg must not read (see io/tag_guard.h) in what it will see.
void guard_tags(InputFile& file, std::vector<std::string>* warnings) {
  guard::Limits limits;
  limits.max_picture_bytes = safety::kMaxCoverBytes;
  limits.max_tag_bytes = safety::kMaxTagBytes;
  limits.max_tag_entries = safety::kMaxTagEntries;
  guard::Findings found = guard::scan(
      [&file](std::int64_t offset, std::uint8_t* dst, std::size_t n) { return file.read_at(offset, dst, n); },
      file.size(), limits);
  if (found.hidden_pictures > 0) warnings->push_back(cover_too_big(found.largest_hidden_picture));
  if (found.hidden_tag_frames > 0) {
    warnings->push_back("left out " + std::to_string(found.hidden_tag_frames) + " tag entr" +
                        (found.hidden_tag_frames == 1 ? "y" : "ies") + " past the " +
                        std::to_string(safety::kMaxTagBytes >> 20) + " MiB allowed for tags");
  }
  file.set_edits(std::move(found.patches), std::move(found.cuts));
}

}  // namespace

const char* allowed_formats() { return kAllowedFormats; }

Input open(const std::string& path, const InputLimits& limits) {
  ffmpeg::init();
  Input input;
  input.file_size = check_file(path, limits);
  // "file:" keeps a colon in the name from being read as a protocol.
  const std::string url = "file:" + path;
  const AVInputFormat* format = recognise(url);
  input.file = std::make_unique<InputFile>(path);
  guard_tags(*input.file, &input.warnings);

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) throw std::bad_alloc();
  raw->pb = input.file->io();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  ffmpeg::Options options;
  options.set("format_whitelist", kAllowedFormats);
  options.set("protocol_whitelist", "file");
  options.set("probesize", kProbeSize);
  options.set("analyzeduration", kAnalyzeDuration);
  options.set("max_streams", "64");
  input.file->limit_cpu(kOpenCpuSeconds);
  // On failure avformat_open_input frees the context itself.
  int err = avformat_open_input(&raw, url.c_str(), format, options.ptr());
  // Owned before anything can throw: an open that succeeded past the budget is still freed.
  if (err >= 0) input.context.reset(raw);
  check_open_cost(*input.file);
  ffmpeg::throw_if_transient(err, ffmpeg::Direction::kRead, "cannot read the file");
  if (err < 0) throw base::InputError(unreadable(err));
  AVFormatContext* ctx = input.context.get();
  // What the header claims is refused before the stream info is read (which decodes), and
  // what decoding the first packets revealed is refused before a decoder is opened for good.
  check_audio_streams(ctx);
  err = find_stream_info(ctx);
  check_open_cost(*input.file);
  input.file->limit_cpu(0);
  ffmpeg::throw_if_transient(err, ffmpeg::Direction::kRead, "cannot read the file");
  if (err < 0) throw base::InputError(unreadable(err));
  check_audio_streams(ctx);

  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    const AVStream* st = ctx->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && input.audio_stream < 0) {
      input.audio_stream = static_cast<int>(i);
    }
  }
  if (input.audio_stream < 0) throw base::InputError("the file holds no audio stream");
  const AVCodecParameters* par = ctx->streams[input.audio_stream]->codecpar;
  if (par->sample_rate <= 0 || par->ch_layout.nb_channels <= 0) {
    throw base::InputError("cannot read the file: the audio stream is damaged");
  }
  return input;
}

AudioInfo describe(const Input& input, const std::string& path) {
  const AVFormatContext* ctx = input.context.get();
  const AVStream* st = ctx->streams[input.audio_stream];
  const AVCodecParameters* par = st->codecpar;
  AudioInfo info;
  info.path = path;
  info.container = ctx->iformat->name;
  info.codec = avcodec_get_name(par->codec_id);
  info.sample_rate = par->sample_rate;
  info.channels = par->ch_layout.nb_channels;
  char layout[128] = {};
  if (av_channel_layout_describe(&par->ch_layout, layout, sizeof layout) > 0) {
    info.channel_layout = layout;
  }
  if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
    info.duration_seconds = static_cast<double>(ctx->duration) / AV_TIME_BASE;
  } else if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    info.duration_seconds = static_cast<double>(st->duration) * av_q2d(st->time_base);
  }
  info.bit_rate = par->bit_rate > 0 ? par->bit_rate : std::max<std::int64_t>(ctx->bit_rate, 0);
  info.file_size = input.file_size;
  info.warnings = input.warnings;

  std::size_t dropped = tags::merge(ctx->metadata, &info.metadata.tags);
  dropped += tags::merge(st->metadata, &info.metadata.tags);
  if (dropped > 0) {
    info.warnings.push_back("left out " + std::to_string(dropped) +
                            " oversized or excess tag" + (dropped == 1 ? "" : "s"));
  }
  pick_cover(ctx, &info);
  return info;
}

}  // namespace sy::io::demux
