#include "io/test_bombs.h"

#include <zlib.h>

extern "C" {
#include <libavutil/base64.h>
}

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace sy::testing::bombs {
namespace {

void le(std::string* out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void be(std::string* out, std::uint32_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string syncsafe(std::uint32_t v) {
  std::string s;
  for (int shift : {21, 14, 7, 0}) s.push_back(static_cast<char>((v >> shift) & 0x7f));
  return s;
}

std::uint32_t read_be(const std::string& s, std::size_t at, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

// FLAC's METADATA_BLOCK_PICTURE body: front cover, no description, sizes unknown.
std::string picture_block(const std::string& picture, const std::string& mime) {
  std::string body;
  be(&body, 3, 4);
  be(&body, static_cast<std::uint32_t>(mime.size()), 4);
  body += mime;
  be(&body, 0, 4);
  for (int i = 0; i < 4; ++i) be(&body, 0, 4);
  be(&body, static_cast<std::uint32_t>(picture.size()), 4);
  return body + picture;
}

std::string base64(const std::string& in) {
  std::string out(AV_BASE64_SIZE(in.size()), '\0');
  av_base64_encode(out.data(), static_cast<int>(out.size()), reinterpret_cast<const std::uint8_t*>(in.data()),
                   static_cast<int>(in.size()));
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// Ogg's page checksum: CRC-32, polynomial 0x04c11db7, MSB first, no reflection or final xor.
std::uint32_t ogg_crc(const std::string& page) {
  std::uint32_t crc = 0;
  for (const char ch : page) {
    crc ^= std::uint32_t{static_cast<unsigned char>(ch)} << 24;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
  }
  return crc;
}

// The page with sequence number `sequence` and its checksum set.
std::string renumbered(std::string page, std::uint32_t sequence) {
  std::string field;
  le(&field, sequence, 4);
  page.replace(18, 4, field);
  page.replace(22, 4, std::string(4, '\0'));
  field.clear();
  le(&field, ogg_crc(page), 4);
  page.replace(22, 4, field);
  return page;
}

// One packet of stream `serial` on as many pages as it takes, numbered from `sequence`.
std::vector<std::string> paged(const std::string& packet, std::uint32_t serial, std::uint32_t sequence) {
  std::vector<unsigned char> lacing(packet.size() / 255, 255);
  lacing.push_back(static_cast<unsigned char>(packet.size() % 255));
  std::vector<std::string> pages;
  std::size_t data = 0;
  for (std::size_t first = 0; first < lacing.size(); first += 255) {
    const std::size_t count = std::min<std::size_t>(255, lacing.size() - first);
    const bool ends_packet = first + count == lacing.size();
    std::string page = "OggS";
    page.push_back('\0');
    page.push_back(first == 0 ? '\0' : '\x01');  // continued packet
    const std::uint32_t granule = ends_packet ? 0 : 0xffffffffu;  // -1: no packet ends here
    le(&page, granule, 4);
    le(&page, granule, 4);
    le(&page, serial, 4);
    le(&page, 0, 4);
    le(&page, 0, 4);
    page.push_back(static_cast<char>(count));
    std::size_t bytes = 0;
    for (std::size_t i = first; i < first + count; ++i) {
      page.push_back(static_cast<char>(lacing[i]));
      bytes += lacing[i];
    }
    page += packet.substr(data, bytes);
    data += bytes;
    pages.push_back(renumbered(std::move(page), sequence++));
  }
  return pages;
}

}  // namespace

std::string vorbis_comments(int entries) {
  const std::string vendor = "surroundyou test";
  std::string out;
  le(&out, static_cast<std::uint32_t>(vendor.size()), 4);
  out += vendor;
  le(&out, static_cast<std::uint32_t>(entries), 4);
  for (int i = 0; i < entries; ++i) {
    const std::string comment = "K" + std::to_string(1000000 + i) + "=v";
    le(&out, static_cast<std::uint32_t>(comment.size()), 4);
    out += comment;
  }
  return out;
}

namespace {

// `flac` with `body` appended as its last metadata block of `type`, the 24-bit length field
// set to `declared` (callers may forge it); with `replace`, earlier blocks of that type go.
std::string flac_with_last_block(const std::string& flac, int type, const std::string& body, std::uint32_t declared,
                                 bool replace) {
  if (flac.compare(0, 4, "fLaC") != 0) throw std::invalid_argument("not a FLAC file");
  std::string out = "fLaC";
  std::size_t pos = 4;
  for (bool last = false; !last;) {
    const auto header = static_cast<unsigned char>(flac.at(pos));
    last = (header & 0x80) != 0;
    const std::uint32_t length = read_be(flac, pos + 1, 3);
    if (!replace || (header & 0x7f) != type) {
      out.push_back(static_cast<char>(header & 0x7f));
      out += flac.substr(pos + 1, 3 + length);
    }
    pos += 4 + length;
  }
  out.push_back(static_cast<char>(0x80 | type));
  be(&out, declared & 0xffffff, 3);
  return out + body + flac.substr(pos);
}

}  // namespace

std::string flac_with_comments(const std::string& flac, const std::string& comments) {
  if (comments.size() >= (1u << 24)) throw std::invalid_argument("comments over a FLAC block");
  return flac_with_last_block(flac, 4, comments, static_cast<std::uint32_t>(comments.size()), true);
}

std::string opus_with_comments(const std::string& opus, const std::string& comments) {
  std::vector<std::string> pages;
  for (std::size_t pos = 0; pos + 27 <= opus.size() && opus.compare(pos, 4, "OggS") == 0;) {
    const auto segments = static_cast<unsigned char>(opus[pos + 26]);
    std::size_t length = 27 + segments;
    for (std::size_t i = 0; i < segments; ++i) length += static_cast<unsigned char>(opus.at(pos + 27 + i));
    pages.push_back(opus.substr(pos, length));
    pos += length;
  }
  if (pages.size() < 3 || pages[1].find("OpusTags") != 27u + static_cast<unsigned char>(pages[1][26])) {
    throw std::invalid_argument("not an Opus file with OpusTags alone on its second page");
  }
  std::uint32_t serial = 0;
  for (int i = 3; i >= 0; --i) serial = (serial << 8) | static_cast<unsigned char>(pages[0][14 + i]);
  std::string out = pages[0];
  std::uint32_t sequence = 1;
  for (const std::string& page : paged("OpusTags" + comments, serial, sequence)) {
    out += page;
    ++sequence;
  }
  for (std::size_t i = 2; i < pages.size(); ++i) out += renumbered(pages[i], sequence++);
  return out;
}

std::string ogg_pages(const std::vector<std::string>& packets, std::uint32_t serial) {
  std::string out;
  std::uint32_t sequence = 0;
  for (const std::string& packet : packets) {
    for (std::string& page : paged(packet, serial, sequence)) {
      if (sequence == 0) {
        page[5] = '\x02';  // beginning of the stream
        page = renumbered(std::move(page), 0);
      }
      out += page;
      ++sequence;
    }
  }
  return out;
}

std::string wav_with_info(int entries, bool rf64) {
  std::string info = "INFO";
  for (int i = 0; i < entries; ++i) {
    for (int digit = 0, n = i; digit < 4; ++digit, n /= 26) info.push_back(static_cast<char>('A' + n % 26));
    le(&info, 2, 4);
    info += std::string("v\0", 2);
  }
  const std::uint32_t pcm_bytes = 3 * 44100 * 4;
  std::string body = "WAVEfmt ";
  le(&body, 16, 4);
  le(&body, 1, 2);          // PCM
  le(&body, 2, 2);          // stereo
  le(&body, 44100, 4);
  le(&body, 44100 * 4, 4);  // bytes a second
  le(&body, 4, 2);          // block align
  le(&body, 16, 2);         // bits
  std::string list = "LIST";
  le(&list, static_cast<std::uint32_t>(info.size()), 4);
  list += info;
  if (!rf64) {
    body += list + "data";
    le(&body, pcm_bytes, 4);
    body += std::string(pcm_bytes, '\0');
    std::string out = "RIFF";
    le(&out, static_cast<std::uint32_t>(body.size()), 4);
    return out + body;
  }
  // RF64: the sizes in a ds64 chunk, the 32-bit ones all ones, the list after the data.
  std::string ds64 = "ds64";
  le(&ds64, 28, 4);
  const std::uint64_t riff_size = 4 + 36 + (body.size() - 4) + 8 + pcm_bytes + list.size();
  le(&ds64, static_cast<std::uint32_t>(riff_size), 4);
  le(&ds64, static_cast<std::uint32_t>(riff_size >> 32), 4);
  le(&ds64, pcm_bytes, 4);
  le(&ds64, 0, 4);
  le(&ds64, pcm_bytes / 4, 4);  // sample frames
  le(&ds64, 0, 4);
  le(&ds64, 0, 4);  // no table
  std::string out = "RF64";
  le(&out, 0xffffffffu, 4);
  out += "WAVE" + ds64 + body.substr(4) + "data";
  le(&out, 0xffffffffu, 4);
  return out + std::string(pcm_bytes, '\0') + list;
}

std::string wav(std::uint32_t rate, std::uint16_t channels, std::uint16_t block_align,
                std::uint32_t data_bytes, std::uint16_t bits) {
  std::string h = "RIFF";
  le(&h, 36 + data_bytes, 4);
  h += "WAVEfmt ";
  le(&h, 16, 4);
  le(&h, 1, 2);  // PCM
  le(&h, channels, 2);
  le(&h, rate, 4);
  le(&h, static_cast<std::uint32_t>(static_cast<std::uint64_t>(rate) * block_align), 4);
  le(&h, block_align, 2);
  le(&h, bits, 2);
  h += "data";
  le(&h, data_bytes, 4);
  h.reserve(h.size() + data_bytes);
  for (std::uint32_t i = 0; i < data_bytes; ++i) h.push_back(static_cast<char>((i * 37) & 0xff));
  return h;
}

std::string id3_frame(const std::string& id, const std::string& payload, std::uint16_t flags) {
  std::string f = id + syncsafe(static_cast<std::uint32_t>(payload.size()));
  be(&f, flags, 2);
  return f + payload;
}

std::string id3_compressed_frame(const std::string& id, const std::string& payload) {
  uLongf size = compressBound(payload.size());
  std::string packed(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size,
                reinterpret_cast<const Bytef*>(payload.data()), payload.size(), 9) != Z_OK) {
    throw std::runtime_error("zlib failed");
  }
  packed.resize(size);
  std::string body;
  be(&body, static_cast<std::uint32_t>(payload.size()), 4);  // the inflated length
  return id3_frame(id, body + packed, 0x0008 | 0x0001);
}

std::string id3_tag(const std::string& frames) {
  return std::string("ID3\x04\x00\x00", 6) + syncsafe(static_cast<std::uint32_t>(frames.size())) + frames;
}

std::string apic_payload(const std::string& picture, const std::string& description,
                         const std::string& mime) {
  std::string p(1, '\0');  // Latin-1
  p += mime;
  p.push_back('\0');
  p.push_back('\x03');  // front cover
  p += description;
  p.push_back('\0');
  return p + picture;
}

std::string text_payload(const std::string& text) { return std::string(1, '\0') + text; }

std::string fat_jpeg(const std::string& jpeg, std::size_t total) {
  if (jpeg.size() < 2 || jpeg.compare(0, 2, "\xff\xd8") != 0) throw std::invalid_argument("not a JPEG");
  std::string comments;
  std::size_t size = jpeg.size();
  while (size < total) {
    const std::size_t n = std::min<std::size_t>(65533, total - size);
    comments += "\xff\xfe";
    be(&comments, static_cast<std::uint32_t>(n + 2), 2);
    for (std::size_t i = 0; i < n; ++i) comments.push_back(static_cast<char>('a' + i % 26));
    size += n + 4;
  }
  return jpeg.substr(0, 2) + comments + jpeg.substr(2);
}

std::string png_claiming(const std::string& png, std::uint32_t width, std::uint32_t height) {
  if (png.size() < 33 || png.compare(12, 4, "IHDR") != 0) throw std::invalid_argument("not a PNG");
  std::string out = png;
  std::string wh;
  be(&wh, width, 4);
  be(&wh, height, 4);
  out.replace(16, 8, wh);
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(out.data() + 12), 17);
  std::string c;
  be(&c, static_cast<std::uint32_t>(crc), 4);
  out.replace(29, 4, c);
  return out;
}

std::string flac_with_picture(const std::string& flac, const std::string& picture, const std::string& mime) {
  const std::string body = picture_block(picture, mime);
  return flac_with_last_block(flac, 6, body, static_cast<std::uint32_t>(body.size()), false);
}

std::string ogg_picture_metadata(const std::string& picture, const std::string& mime) {
  return ";FFMETADATA1\nMETADATA_BLOCK_PICTURE=" + base64(picture_block(picture, mime)) + "\n";
}

namespace {

// An EBML element with an 8-byte size.
std::string ebml(const std::string& id, const std::string& body) {
  std::string e = id + '\x01';
  const auto size = static_cast<std::uint64_t>(body.size());
  for (int shift = 48; shift >= 0; shift -= 8) e.push_back(static_cast<char>((size >> shift) & 0xff));
  return e + body;
}

// Where the EBML element at `at` ends.
std::size_t ebml_end(const std::string& file, std::size_t at) {
  auto length_of = [&](std::size_t pos) {
    std::size_t n = 1;
    while ((static_cast<unsigned char>(file.at(pos)) & (0x80 >> (n - 1))) == 0) ++n;
    return n;
  };
  const std::size_t id = length_of(at);
  const std::size_t n = length_of(at + id);
  std::uint64_t size = static_cast<unsigned char>(file[at + id]) & (0xffu >> n);
  for (std::size_t i = 1; i < n; ++i) size = (size << 8) | static_cast<unsigned char>(file[at + id + i]);
  return at + id + n + static_cast<std::size_t>(size);
}

std::string mp4_box(const std::string& type, const std::string& body) {
  std::string b;
  be(&b, static_cast<std::uint32_t>(8 + body.size()), 4);
  return b + type + body;
}

}  // namespace

std::string matroska_with_tags(const std::string& mkv, int tags, int simple_tags) {
  const std::string segment_id("\x18\x53\x80\x67", 4);
  const std::size_t header_end = ebml_end(mkv, 0);
  if (mkv.compare(header_end, 4, segment_id) != 0) throw std::runtime_error("no Segment after the EBML header");
  std::size_t pos = header_end + 4;
  std::size_t size_bytes = 1;  // the Segment's size: its first byte gives how many
  while ((static_cast<unsigned char>(mkv.at(pos)) & (0x80 >> (size_bytes - 1))) == 0) ++size_bytes;
  pos += size_bytes;
  std::string all_tags;
  int name = 0;
  for (int t = 0; t < tags; ++t) {
    std::string tag = ebml(std::string("\x63\xc0", 2), "");  // Targets: the whole file
    for (int s = 0; s < simple_tags; ++s)
      tag += ebml(std::string("\x67\xc8", 2), ebml(std::string("\x45\xa3", 2), "k" + std::to_string(name++)) +
                                                   ebml(std::string("\x44\x87", 2), "v"));
    all_tags += ebml(std::string("\x73\x73", 2), tag);
  }
  std::string body;
  bool placed = false;
  while (pos < mkv.size()) {
    const std::size_t end = ebml_end(mkv, pos);
    const std::string id = mkv.substr(pos, 4);
    const bool dropped = id == std::string("\x11\x4d\x9b\x74", 4) || id == std::string("\x1c\x53\xbb\x6b", 4) ||
                         id == std::string("\x12\x54\xc3\x67", 4) || mkv[pos] == '\xec';
    if (!placed && id == std::string("\x1f\x43\xb6\x75", 4)) {
      body += ebml(std::string("\x12\x54\xc3\x67", 4), all_tags);
      placed = true;
    }
    if (!dropped) body += mkv.substr(pos, end - pos);
    pos = end;
  }
  return mkv.substr(0, header_end) + segment_id + std::string("\x01\xff\xff\xff\xff\xff\xff\xff", 8) + body;
}

std::string mp4_with_items(const std::string& mp4, int items) {
  std::size_t pos = 0, moov = std::string::npos;
  while (pos + 8 <= mp4.size()) {
    if (mp4.compare(pos + 4, 4, "moov") == 0) moov = pos;
    pos += read_be(mp4, pos, 4);
  }
  if (moov == std::string::npos || pos != mp4.size() || moov + read_be(mp4, moov, 4) != mp4.size())
    throw std::runtime_error("'moov' is not the last box");
  std::string ilst;
  for (int i = 0; i < items; ++i) {
    ilst += mp4_box("----", mp4_box("mean", std::string(4, '\0') + "com.apple.iTunes") +
                                mp4_box("name", std::string(4, '\0') + "k" + std::to_string(i)) +
                                mp4_box("data", std::string("\0\0\0\x01\0\0\0\0", 8) + "v"));
  }
  const std::string hdlr = mp4_box("hdlr", std::string(8, '\0') + "mdirappl" + std::string(9, '\0'));
  const std::string udta = mp4_box("udta", mp4_box("meta", std::string(4, '\0') + hdlr + mp4_box("ilst", ilst)));
  return mp4.substr(0, moov) + mp4_box("moov", mp4.substr(moov + 8) + udta);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace sy::testing::bombs
