#pragma once
// Tag and cover-art conversions between FFmpeg's containers and sy::Metadata.
#include <cstdint>
#include <string>
#include <vector>

#include "io/metadata.h"

extern "C" {
#include <libavcodec/codec_id.h>
#include <libavutil/dict.h>
}

namespace sy::io::tags {

// Container bookkeeping that is not a tag of the song (major_brand, encoder, ...).
bool is_container_plumbing(const std::string& lower_key);
// Tags that describe the old encoding and would be wrong on a new file (ReplayGain,
// iTunSMPB gapless info, ...).
bool is_stale_after_reencode(const std::string& lower_key);

// Adds the entries of `dict` to `tags` under lower-case keys, skipping plumbing and
// pictures; entries already present are kept (container tags win over stream tags).
// Values over safety::kMaxTagValueBytes and entries past safety::kMaxTags are left out;
// returns how many were.
std::size_t merge(const AVDictionary* dict, std::map<std::string, std::string>* tags);

// "image/jpeg" <-> AV_CODEC_ID_MJPEG, "image/png" <-> AV_CODEC_ID_PNG, ...;
// empty / AV_CODEC_ID_NONE for what we do not carry.
std::string mime_for_codec(AVCodecID id);
AVCodecID codec_for_mime(const std::string& mime);

// The FLAC METADATA_BLOCK_PICTURE (front cover) that Ogg files carry base64-encoded in a
// Vorbis comment.
std::vector<std::uint8_t> flac_picture_block(const CoverArt& cover);
std::string base64(const std::vector<std::uint8_t>& data);

}  // namespace sy::io::tags
