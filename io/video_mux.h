#pragma once
// A video stays a video: its picture is copied packet for packet (never decoded or encoded
// again) into the output container beside the rendered 8D audio, with its tags and chapters.
#include <string>

#include "io/decoder.h"
#include "io/encoder.h"

namespace sy::io {

// Whether `path` holds a moving picture: a video stream that is not cover art.
// Throws base::InputError like the decoder for a file it cannot read.
bool has_video(const std::string& path, const InputLimits& limits);

// "keep": the output format for `path` in its own container when we write that container (a
// .mkv stays .mkv, an .mp3 stays .mp3); otherwise MKV for a video (it takes any video codec)
// and M4A for audio.
OutputFormat kept_format(const std::string& path, const InputLimits& limits);

// The audio-only format the 8D audio is encoded in before it joins the picture: AAC (M4A)
// for MP4 and MOV, Opus for WebM and MKV.
OutputFormat audio_format_for(OutputFormat container);

// Writes `output` as `container` (a format whose FormatInfo::video is set): every video
// stream of `video_source` (cover art left out) copied untouched, then the single audio
// stream of `audio_file` (already encoded for the container) copied as well; tags of the
// source with the audio file's on top (its title says 8D), and the source's chapters.
// Packets are interleaved by time as they are read, so memory does not grow with length.
// `video_source` without a video stream gives an audio-only file of that container.
// Throws base::InputError when the source's video codec cannot go into `container` (VP9 into
// MOV, say), std::runtime_error on a write failure; the caller removes the partial file.
void mux_with_video(const std::string& video_source, const std::string& audio_file,
                    const std::string& output, OutputFormat container, const InputLimits& limits);

}  // namespace sy::io
