#include "io/tags.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <string_view>

#include "io/input_safety.h"

extern "C" {
#include <libavutil/base64.h>
}

namespace sy::io::tags {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void put_be32(std::vector<std::uint8_t>* out, std::uint32_t v) {
  out->push_back(static_cast<std::uint8_t>(v >> 24));
  out->push_back(static_cast<std::uint8_t>(v >> 16));
  out->push_back(static_cast<std::uint8_t>(v >> 8));
  out->push_back(static_cast<std::uint8_t>(v));
}

}  // namespace

bool is_container_plumbing(const std::string& key) {
  constexpr std::array<std::string_view, 11> kPlumbing{"major_brand",
                                                       "minor_version",
                                                       "compatible_brands",
                                                       "encoder",
                                                       "handler_name",
                                                       "vendor_id",
                                                       "duration",
                                                       "creation_time",
                                                       "language",
                                                       "metadata_block_picture",
                                                       "waveformatextensible_channel_mask"};
  return std::find(kPlumbing.begin(), kPlumbing.end(), key) != kPlumbing.end();
}

bool is_stale_after_reencode(const std::string& key) {
  constexpr std::array<std::string_view, 6> kStale{"itunsmpb",   "itunnorm",        "itunes_cddb_1",
                                                   "encoded_by", "encoder_options", "tlen"};
  if (key.rfind("replaygain_", 0) == 0 || key.rfind("r128_", 0) == 0) return true;
  return std::find(kStale.begin(), kStale.end(), key) != kStale.end() || is_container_plumbing(key);
}

std::size_t merge(const AVDictionary* dict, std::map<std::string, std::string>* tags) {
  std::size_t dropped = 0;
  const AVDictionaryEntry* e = nullptr;
  while ((e = av_dict_get(dict, "", e, AV_DICT_IGNORE_SUFFIX)) != nullptr) {
    if (e->value == nullptr || *e->value == '\0') continue;
    const std::size_t size = std::strlen(e->key) + std::strlen(e->value);
    std::string key = lower(e->key);
    if (is_container_plumbing(key) || tags->count(key) > 0) continue;
    if (size > safety::kMaxTagValueBytes || tags->size() >= safety::kMaxTags) {
      ++dropped;
      continue;
    }
    tags->emplace(std::move(key), e->value);
  }
  return dropped;
}

std::string mime_for_codec(AVCodecID id) {
  switch (id) {
    case AV_CODEC_ID_MJPEG:
      return "image/jpeg";
    case AV_CODEC_ID_PNG:
      return "image/png";
    default:
      return {};
  }
}

AVCodecID codec_for_mime(const std::string& mime) {
  const std::string m = lower(mime);
  if (m == "image/jpeg" || m == "image/jpg") return AV_CODEC_ID_MJPEG;
  if (m == "image/png") return AV_CODEC_ID_PNG;
  return AV_CODEC_ID_NONE;
}

std::vector<std::uint8_t> flac_picture_block(const CoverArt& cover) {
  // Layout from the FLAC format specification, METADATA_BLOCK_PICTURE; width, height,
  // depth and palette size may be 0 ("unknown") and readers take them from the image.
  std::vector<std::uint8_t> out;
  out.reserve(32 + cover.mime.size() + cover.data.size());
  put_be32(&out, 3);  // front cover
  put_be32(&out, static_cast<std::uint32_t>(cover.mime.size()));
  out.insert(out.end(), cover.mime.begin(), cover.mime.end());
  put_be32(&out, 0);  // description length
  for (int i = 0; i < 4; ++i) put_be32(&out, 0);
  put_be32(&out, static_cast<std::uint32_t>(cover.data.size()));
  out.insert(out.end(), cover.data.begin(), cover.data.end());
  return out;
}

std::string base64(const std::vector<std::uint8_t>& data) {
  std::string out(AV_BASE64_SIZE(data.size()), '\0');
  av_base64_encode(out.data(), static_cast<int>(out.size()), data.data(),
                   static_cast<int>(data.size()));
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

}  // namespace sy::io::tags
