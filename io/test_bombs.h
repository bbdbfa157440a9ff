#pragma once
// Hostile files built byte by byte for the tests: headers that claim what an attacker wants
// (a 750 MHz sample rate, a thousand channels, gigapixel cover art, zlib-compressed ID3
// frames that inflate a thousandfold). Real decoders read them; nothing here is a mock.
#include <cstdint>
#include <string>

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

void write_file(const std::string& path, const std::string& bytes);

}  // namespace sy::testing::bombs
