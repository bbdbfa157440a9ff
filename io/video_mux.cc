#include "io/video_mux.h"

#include <cstring>
#include <stdexcept>
#include <vector>

#include "base/errors.h"
#include "io/demux.h"
#include "io/ffmpeg_util.h"

namespace sy::io {
namespace {

bool is_picture(const AVStream* st) {
  return st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
         (st->disposition & AV_DISPOSITION_ATTACHED_PIC) == 0;
}

const char* muxer_for(OutputFormat container) {
  switch (container) {
    case OutputFormat::kMp4: return "mp4";
    case OutputFormat::kMov: return "mov";
    case OutputFormat::kMkv: return "matroska";
    case OutputFormat::kWebm: return "webm";
    default: throw std::logic_error("not a video container: " + format_name(container));
  }
}

// The video formats we write that take `codec` as it is, for a refusal that names a way out.
std::string containers_taking(AVCodecID codec, OutputFormat refused) {
  std::string names;
  for (OutputFormat f : {OutputFormat::kMkv, OutputFormat::kMp4, OutputFormat::kMov, OutputFormat::kWebm}) {
    if (f == refused) continue;
    const AVOutputFormat* muxer = av_guess_format(muxer_for(f), nullptr, nullptr);
    if (muxer == nullptr || avformat_query_codec(muxer, codec, FF_COMPLIANCE_NORMAL) != 1) continue;
    names += (names.empty() ? "" : " or ") + format_name(f);
  }
  return names;
}

void check(int err, const char* what) {
  if (err < 0) throw std::runtime_error(std::string(what) + ": " + ffmpeg::error_text(err));
}

// Our own encoded audio: no limits needed, but still only the file protocol.
ffmpeg::InputContextPtr open_own_file(const std::string& path) {
  AVFormatContext* raw = nullptr;
  ffmpeg::Options options;
  options.set("protocol_whitelist", "file");
  const std::string url = "file:" + path;
  check(avformat_open_input(&raw, url.c_str(), nullptr, options.ptr()), "cannot read the rendered audio");
  ffmpeg::InputContextPtr ctx(raw);
  check(avformat_find_stream_info(ctx.get(), nullptr), "cannot read the rendered audio");
  return ctx;
}

AVStream* copy_stream(AVFormatContext* out, const AVStream* in) {
  AVStream* st = avformat_new_stream(out, nullptr);
  if (st == nullptr) throw std::bad_alloc();
  check(avcodec_parameters_copy(st->codecpar, in->codecpar), "cannot copy a stream");
  // The source container's tag may mean nothing in ours; the muxer picks its own.
  st->codecpar->codec_tag = 0;
  st->time_base = in->time_base;
  st->avg_frame_rate = in->avg_frame_rate;
  st->r_frame_rate = in->r_frame_rate;
  st->sample_aspect_ratio = in->sample_aspect_ratio;
  st->disposition = in->disposition;
  av_dict_copy(&st->metadata, in->metadata, 0);
  return st;
}

void copy_chapters(AVFormatContext* out, const AVFormatContext* in) {
  if (in->nb_chapters == 0) return;
  auto** list = static_cast<AVChapter**>(av_calloc(in->nb_chapters, sizeof(AVChapter*)));
  if (list == nullptr) throw std::bad_alloc();
  out->chapters = list;
  for (unsigned i = 0; i < in->nb_chapters; ++i) {
    const AVChapter* from = in->chapters[i];
    auto* to = static_cast<AVChapter*>(av_mallocz(sizeof(AVChapter)));
    if (to == nullptr) throw std::bad_alloc();
    to->id = from->id;
    to->time_base = from->time_base;
    to->start = from->start;
    to->end = from->end;
    av_dict_copy(&to->metadata, from->metadata, 0);
    out->chapters[out->nb_chapters++] = to;  // owned by `out` from here
  }
}

// One input's packets in file order, with the output stream each maps to (-1: dropped).
struct Feed {
  AVFormatContext* ctx;
  std::vector<int> map;
  std::int64_t offset = 0;  // added to timestamps, in the stream's time base units
  ffmpeg::PacketPtr next = ffmpeg::make_packet();
  bool has_next = false;

  // The next packet of a mapped stream, or false at the end.
  bool advance() {
    for (;;) {
      av_packet_unref(next.get());
      const int err = av_read_frame(ctx, next.get());
      if (err == AVERROR_EOF) return has_next = false;
      if (err < 0) throw base::InputError("cannot read the video: " + ffmpeg::error_text(err));
      if (map[static_cast<std::size_t>(next->stream_index)] >= 0) return has_next = true;
    }
  }
  std::int64_t time(const AVPacket* p) const { return p->dts != AV_NOPTS_VALUE ? p->dts : p->pts; }
};

}  // namespace

bool has_video(const std::string& path, const InputLimits& limits) {
  const demux::Input input = demux::open(path, limits);
  for (unsigned i = 0; i < input.context->nb_streams; ++i)
    if (is_picture(input.context->streams[i])) return true;
  return false;
}

OutputFormat kept_format(const std::string& path, const InputLimits& limits) {
  const demux::Input input = demux::open(path, limits);
  bool video = false;
  for (unsigned i = 0; i < input.context->nb_streams; ++i) video = video || is_picture(input.context->streams[i]);
  OutputFormat f{};
  // The demuxer's name says what the bytes are ("mov,mp4,m4a,3gp,3g2,mj2" for the whole MP4
  // family); the extension says which of them the user has.
  const std::string demuxer = input.context->iformat->name;
  if (format_from_path(path, &f) && format_info(f).video == video) {
    const bool mp4_family = demuxer.find("mp4") != std::string::npos;
    const bool matroska = demuxer.find("matroska") != std::string::npos;
    if ((f == OutputFormat::kMp4 || f == OutputFormat::kMov || f == OutputFormat::kM4a) && mp4_family) return f;
    if ((f == OutputFormat::kMkv || f == OutputFormat::kWebm) && matroska) return f;
    if (f == OutputFormat::kMp3 && demuxer == "mp3") return f;
    if (f == OutputFormat::kFlac && demuxer == "flac") return f;
    if (f == OutputFormat::kWav && demuxer == "wav") return f;
    if (f == OutputFormat::kOpus && demuxer == "ogg") return f;
  }
  // An Ogg song (Vorbis, Opus or FLAC inside) stays in Ogg: Opus is the codec we write there.
  if (!video && demuxer == "ogg") return OutputFormat::kOpus;
  return video ? OutputFormat::kMkv : OutputFormat::kM4a;
}

OutputFormat audio_format_for(OutputFormat container) {
  switch (container) {
    case OutputFormat::kMp4:
    case OutputFormat::kMov: return OutputFormat::kM4a;
    case OutputFormat::kMkv:
    case OutputFormat::kWebm: return OutputFormat::kOpus;
    default: throw std::logic_error("not a video container: " + format_name(container));
  }
}

void mux_with_video(const std::string& video_source, const std::string& audio_file,
                    const std::string& output, OutputFormat container, const InputLimits& limits) {
  ffmpeg::quiet_log();
  demux::Input source = demux::open(video_source, limits);
  ffmpeg::InputContextPtr audio = open_own_file(audio_file);

  AVFormatContext* raw = nullptr;
  check(avformat_alloc_output_context2(&raw, nullptr, muxer_for(container), output.c_str()),
        "cannot start the video file");
  ffmpeg::OutputContextPtr out(raw);

  Feed picture{source.context.get(), std::vector<int>(source.context->nb_streams, -1)};
  for (unsigned i = 0; i < source.context->nb_streams; ++i) {
    const AVStream* st = source.context->streams[i];
    if (!is_picture(st)) continue;
    if (avformat_query_codec(out->oformat, st->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1)
    {
      const std::string elsewhere = containers_taking(st->codecpar->codec_id, container);
      throw base::InputError(std::string("the video's ") + avcodec_get_name(st->codecpar->codec_id) +
                             " picture cannot go into " + format_name(container) +
                             " without encoding it again; " +
                             (elsewhere.empty() ? std::string("choose an audio format (m4a, mp3, flac, ...) for the sound alone")
                                                : "choose " + elsewhere));
    }
    picture.map[i] = copy_stream(out.get(), st)->index;
  }
  Feed sound{audio.get(), std::vector<int>(audio->nb_streams, -1)};
  const AVStream* sound_stream = nullptr;
  for (unsigned i = 0; i < audio->nb_streams; ++i) {
    if (audio->streams[i]->codecpar->codec_type != AVMEDIA_TYPE_AUDIO) continue;
    sound.map[i] = copy_stream(out.get(), audio->streams[i])->index;
    sound_stream = audio->streams[i];
    // The rendered audio starts at 0; the source's sound may start later (MPEG-TS, edits).
    const AVStream* original = source.context->streams[source.audio_stream];
    if (original->start_time != AV_NOPTS_VALUE && original->start_time > 0)
      sound.offset = av_rescale_q(original->start_time, original->time_base, audio->streams[i]->time_base);
    break;
  }

  av_dict_copy(&out->metadata, source.context->metadata, 0);
  // The title that says 8D and the tags we kept: Ogg (Opus) holds them on its stream.
  av_dict_copy(&out->metadata, audio->metadata, 0);
  if (sound_stream != nullptr) av_dict_copy(&out->metadata, sound_stream->metadata, 0);
  if (sound_stream == nullptr) throw std::runtime_error("the rendered audio holds no audio stream");
  copy_chapters(out.get(), source.context.get());

  check(avio_open(&out->pb, output.c_str(), AVIO_FLAG_WRITE), "cannot write the video file");
  ffmpeg::Options options;
  // The index up front, so a browser plays an MP4 before it has all of it.
  if (container == OutputFormat::kMp4 || container == OutputFormat::kMov) options.set("movflags", "+faststart");
  check(avformat_write_header(out.get(), options.ptr()), "cannot write the video file");

  // Whichever input's next packet is earlier goes first: the muxer then needs to hold back
  // only a few packets to interleave them, whatever the length.
  picture.advance();
  sound.advance();
  while (picture.has_next || sound.has_next) {
    Feed* feed = &sound;
    if (picture.has_next && sound.has_next) {
      const AVStream* p = picture.ctx->streams[picture.next->stream_index];
      const AVStream* a = sound.ctx->streams[sound.next->stream_index];
      if (av_compare_ts(picture.time(picture.next.get()), p->time_base,
                        sound.time(sound.next.get()) + sound.offset, a->time_base) <= 0)
        feed = &picture;
    } else if (picture.has_next) {
      feed = &picture;
    }
    AVPacket* pkt = feed->next.get();
    const AVStream* in = feed->ctx->streams[pkt->stream_index];
    const int index = feed->map[static_cast<std::size_t>(pkt->stream_index)];
    if (feed->offset != 0) {
      if (pkt->pts != AV_NOPTS_VALUE) pkt->pts += feed->offset;
      if (pkt->dts != AV_NOPTS_VALUE) pkt->dts += feed->offset;
    }
    av_packet_rescale_ts(pkt, in->time_base, out->streams[index]->time_base);
    pkt->stream_index = index;
    pkt->pos = -1;
    check(av_interleaved_write_frame(out.get(), pkt), "cannot write the video file");
    feed->advance();
  }
  check(av_write_trailer(out.get()), "cannot finish the video file");
}

}  // namespace sy::io
