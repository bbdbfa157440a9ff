#pragma once
// Hostile files built byte by byte for the tests: headers that claim what an attacker wants
// (a 750 MHz sample rate, a thousand channels, gigapixel cover art, zlib-compressed ID3
// frames that inflate a thousandfold). Real decoders read them; nothing here is a mock.
#include <cstdint>
#include <string>
#include <vector>

namespace sy::testing::bombs {

// A PCM WAV whose fmt chunk says whatever it is told, followed by `data_bytes` of a ramp.
std::string wav(std::uint32_t rate, std::uint16_t channels, std::uint16_t block_align,
                std::uint32_t data_bytes, std::uint16_t bits = 16);

// ID3v2.4 pieces. Flags are FFmpeg's frame flags: 0x0008 compressed, 0x0001 data length.
std::string id3_frame(const std::string& id, const std::string& payload, std::uint16_t flags = 0);
// A frame whose payload is zlib-compressed, declaring its inflated length as ID3v2.4 does.
std::string id3_compressed_frame(const std::string& id, const std::string& payload);
std::string id3_tag(const std::string& frames);
std::string apic_payload(const std::string& picture, const std::string& description = "",
                         const std::string& mime = "image/jpeg");
std::string text_payload(const std::string& text);  // a T*** frame's payload, Latin-1

// A valid JPEG grown to `total` bytes with comment segments (decoders skip them).
std::string fat_jpeg(const std::string& jpeg, std::size_t total);
// The same PNG with its header claiming width x height (CRC kept valid).
std::string png_claiming(const std::string& png, std::uint32_t width, std::uint32_t height);
// A FLAC file with a PICTURE block appended to its metadata. Pictures over 16 MiB get the
// truncated 24-bit block length old muxers wrote, which FFmpeg reads past on purpose.
std::string flac_with_picture(const std::string& flac, const std::string& picture,
                              const std::string& mime = "image/jpeg");
// An FFMETADATA file (for `ffmpeg -i meta.txt -map_metadata 1`) carrying the picture as the
// base64 METADATA_BLOCK_PICTURE comment Ogg files use.
std::string ogg_picture_metadata(const std::string& picture, const std::string& mime = "image/jpeg");

// Tags by the thousand: FFmpeg files each in a dictionary it searches linearly, so n entries
// with different names cost n^2/2 comparisons.
// A Vorbis comment list (FLAC, Vorbis and Opus tags): a short vendor string, then `entries`
// comments with different names.
std::string vorbis_comments(int entries);
// The FLAC file with a VORBIS_COMMENT block holding `comments` in place of its own.
std::string flac_with_comments(const std::string& flac, const std::string& comments);
// The Ogg Opus file (as FFmpeg writes it: the OpusTags packet alone on the second page) with
// that packet made "OpusTags" + `comments`, its pages rebuilt and every checksum valid.
std::string opus_with_comments(const std::string& opus, const std::string& comments);
// One Ogg stream: each packet on pages of its own, checksums valid.
std::string ogg_pages(const std::vector<std::string>& packets, std::uint32_t serial = 1);
// A 3 s WAV of silence whose LIST/INFO chunk holds `entries` items with different IDs; as
// RF64 the list comes after the data, whose size only the ds64 chunk gives.
std::string wav_with_info(int entries, bool rf64 = false);

// The Matroska file (as FFmpeg writes it) with its Segment made of unknown size, its SeekHead,
// Cues and Tags left out, and a Tags element of `tags` Tag elements of `simple_tags` SimpleTags
// each (different names) before its first Cluster.
std::string matroska_with_tags(const std::string& mkv, int tags, int simple_tags);
// The MP4 file (as FFmpeg writes it: 'moov' last) with a 'udta/meta/ilst' of `items` free-form
// '----' items with different names appended to its 'moov'.
std::string mp4_with_items(const std::string& mp4, int items);

void write_file(const std::string& path, const std::string& bytes);

}  // namespace sy::testing::bombs
