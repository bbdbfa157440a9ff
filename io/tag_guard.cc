#include "io/tag_guard.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "base/errors.h"

extern "C" {
#include <libavutil/crc.h>
}

namespace sy::io::guard {
namespace {

constexpr std::size_t kHeaderSize = 10;
constexpr std::size_t kSearchBlock = 1 << 20;
// Frame flags as FFmpeg reads them (ID3v2.4 positions, applied to v2.3 frames too).
constexpr unsigned kFlagDataLength = 0x0001;
constexpr unsigned kFlagEncrypted = 0x0004;
constexpr unsigned kFlagCompressed = 0x0008;
constexpr unsigned kTagFlagExtendedHeader = 0x40;
constexpr std::uint32_t kMaxFrameLength = 1u << 28;  // FFmpeg stops at a frame claiming more
constexpr std::int64_t kMaxTruncatedPicture = 500LL << 20;  // FFmpeg's MAX_TRUNC_PICTURE_SIZE

// Ogg pages (RFC 3533): a 27-byte header and up to 255 lacing values. FFmpeg searches this
// far for the next "OggS" after a page it cannot use (MAX_PAGE_SIZE in oggdec.c).
constexpr std::size_t kOggHeader = 27;
constexpr std::int64_t kOggResync = 65307;
// FFmpeg's default AVFormatContext.max_streams: its Ogg reader fails to add a stream past it.
constexpr std::size_t kMaxOggStreams = 1000;
constexpr int kMaxBadOggPagesInARow = 64;
constexpr std::int64_t kMiB = 1 << 20;
// Matroska (EBML) IDs: the file's first four bytes, the Tags element, and the two it counts.
constexpr char kEbmlMagic[] = "\x1a\x45\xdf\xa3";
constexpr char kMatroskaTags[] = "\x12\x54\xc3\x67";
constexpr std::uint64_t kMatroskaTag = 0x7373;
constexpr std::uint64_t kMatroskaSimpleTag = 0x67c8;
// Real files carry one Tag per track, chapter or edition: a few, at most dozens.
constexpr int kMaxMatroskaTagElements = 256;
// Every "Tags" ID in the file starts a walk, and a size that runs past the file stretches it
// to the end: Void elements each hiding a Tags ID with such a size make the walks quadratic.
// Real files visit a few thousand elements in all; past this many the file is damage.
constexpr std::int64_t kMaxMatroskaElementsVisited = 1000000;
// Where a packet's comment count stands before its head is read, and for other packets.
constexpr std::int64_t kUnknown = -1;
constexpr std::int64_t kNotComments = -2;

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// How many comments FFmpeg's Vorbis comment reader (used for FLAC, Vorbis, Opus, Speex,
// Theora, ...) files from a list of `length` bytes starting with a vendor string of `vendor`
// bytes and a count: `count` entries of at least 4 bytes each, as many as fit.
std::int64_t vorbis_comment_entries(std::int64_t length, std::int64_t vendor, std::int64_t count) {
  if (length < 8 || vendor > length - 8) return 0;  // FFmpeg refuses the list
  return std::min<std::int64_t>(count, (length - 8 - vendor) / 4);
}

bool starts_with(const std::uint8_t* bytes, std::size_t size, std::string_view prefix) {
  return size >= prefix.size() && std::memcmp(bytes, prefix.data(), prefix.size()) == 0;
}

// The Ogg packet being put together, as little of it as the comment count needs: its head
// (what kind of packet), its length, and the four bytes of the count once their place is
// known from the vendor length in the head.
struct OggPacket {
  std::array<std::uint8_t, 16> head{};
  std::size_t head_size = 0;
  std::int64_t length = 0;
  std::int64_t comments_at = 0;     // where the comment list starts
  std::int64_t count_at = kUnknown;  // where its count stands
  std::array<std::uint8_t, 4> count{};
  std::int64_t count_bytes = 0;

  // Keeps what of the count lies in `n` bytes standing at `at` in the packet.
  void take_count(const std::uint8_t* bytes, std::int64_t at, std::size_t n) {
    if (count_at < 0) return;
    const std::int64_t from = std::max(at, count_at);
    const std::int64_t to = std::min(at + static_cast<std::int64_t>(n), count_at + 4);
    for (std::int64_t i = from; i < to; ++i) count[static_cast<std::size_t>(i - count_at)] = bytes[i - at];
    if (to > from) count_bytes = std::max(count_bytes, to - count_at);
  }
};

// One logical stream of an Ogg file as the page walk sees it: the codec named by its first
// packet, and the packet being put together. A few dozen bytes whatever the stream holds.
struct OggStream {
  std::vector<std::uint8_t> first_packet;  // its first bytes
  std::int64_t packets = 0;
  OggPacket packet;
};

// Where the Vorbis comment list of a packet begins, or -1 when it is not a comment packet:
// the packets oggparse*.c hand to ff_vorbis_stream_comment.
std::int64_t comment_offset(const OggStream& s) {
  const std::uint8_t* p = s.packet.head.data();
  const std::size_t n = s.packet.head_size;
  const std::uint8_t* first = s.first_packet.data();
  const std::size_t first_n = s.first_packet.size();
  if (starts_with(p, n, "\x03vorbis") || starts_with(p, n, "\x81theora") || starts_with(p, n, "OVP80\x02")) return 7;
  if (starts_with(p, n, "OpusTags")) return 8;
  if (starts_with(first, first_n, "\x7f" "FLAC") && n > 0 && (p[0] & 0x7f) == 4) return 4;
  if ((starts_with(first, first_n, "\x01video") || starts_with(first, first_n, "\x01" "audio") ||
       starts_with(first, first_n, "\x01text")) && n > 0 && p[0] == 3)
    return 7;
  if ((starts_with(first, first_n, "Speex   ") || starts_with(first, first_n, "CELT    ")) && s.packets == 1)
    return 0;
  return -1;
}

// A file read front to back through one buffer, so that the Ogg walk and its search for the
// next "OggS" after a bad page read each byte from the file once, however many pages claim it.
class Window {
 public:
  Window(const ReadAt& read, std::int64_t size) : read_(read), size_(size) {}

  // Makes up to `n` bytes at `pos` ready (`pos` never before an earlier call's); returns how
  // many the file has there.
  std::size_t fill(std::int64_t pos, std::size_t n) {
    if (pos < start_ || pos > end()) {
      start_ = pos;
      bytes_.clear();
    }
    if (pos + static_cast<std::int64_t>(n) > end()) {
      bytes_.erase(bytes_.begin(), bytes_.begin() + (pos - start_));
      start_ = pos;
      const std::size_t have = bytes_.size();
      const auto want = static_cast<std::size_t>(
          std::min<std::int64_t>(std::max(n, kReadSize), std::max<std::int64_t>(size_ - start_, 0)));
      if (want > have) {
        bytes_.resize(want);
        bytes_.resize(have + read_(start_ + static_cast<std::int64_t>(have), bytes_.data() + have, want - have));
      }
    }
    return std::min(n, static_cast<std::size_t>(end() - pos));
  }

  // The `n` bytes at `pos`, or nullptr when the file ends before.
  const std::uint8_t* at(std::int64_t pos, std::size_t n) {
    return fill(pos, n) == n ? bytes_.data() + (pos - start_) : nullptr;
  }

 private:
  static constexpr std::size_t kReadSize = 256 << 10;
  std::int64_t end() const { return start_ + static_cast<std::int64_t>(bytes_.size()); }

  const ReadAt& read_;
  std::int64_t size_;
  std::int64_t start_ = 0;
  std::vector<std::uint8_t> bytes_;  // the file's from start_
};

// FFmpeg searches past a bad Ogg page for the next "OggS" and judges the page there, so page
// headers a few bytes apart, each claiming 65 KB, cost it (and this walk) thousands of times
// the file in checksums on every open. Real damage costs its own bytes once and seldom spans
// many pages: past 64 bad pages in a row, or once the bad pages judged claim more than twice
// the file, it is refused as damaged.
class OggDamage {
 public:
  explicit OggDamage(std::int64_t file_size) : budget_(2 * file_size + kMiB) {}

  void bad_page(std::int64_t bytes_checked) {
    checked_ += bytes_checked;
    if (++in_a_row_ > kMaxBadOggPagesInARow) {
      throw base::InputError("the file is damaged (over " + std::to_string(kMaxBadOggPagesInARow) +
                             " broken Ogg pages in a row)");
    }
    if (checked_ > budget_) {
      throw base::InputError("the file is damaged (its broken Ogg pages claim more than twice its size)");
    }
  }
  void good_page() { in_a_row_ = 0; }

 private:
  std::int64_t budget_;
  std::int64_t checked_ = 0;
  int in_a_row_ = 0;
};

std::uint32_t be(const std::uint8_t* p, int n) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t syncsafe(const std::uint8_t* p) {
  return (std::uint32_t{p[0] & 0x7fu} << 21) | (std::uint32_t{p[1] & 0x7fu} << 14) |
         (std::uint32_t{p[2] & 0x7fu} << 7) | (p[3] & 0x7fu);
}

// A v2.4 size stored as a plain integer, reinterpreted as four 7-bit groups (what FFmpeg
// tries when a writer got the encoding wrong).
std::uint32_t as_syncsafe(std::uint32_t v) {
  return (v & 0x7f) | ((v & (0x7fu << 8)) >> 1) | ((v & (0x7fu << 16)) >> 2) |
         ((v & (0x7fu << 24)) >> 3);
}

bool is_header(const std::uint8_t* h) {
  return h[0] == 'I' && h[1] == 'D' && h[2] == '3' && h[3] != 0xff && h[4] != 0xff &&
         ((h[6] | h[7] | h[8] | h[9]) & 0x80) == 0;
}

enum class Kind { kSkipped, kText, kPicture, kOther, kPadding };

// Which frames FFmpeg reads into memory, by ID: text (T***, lyrics, comments), pictures,
// and the binary ones it keeps (GEOB, CHAP, PRIV). v2.2 IDs have three letters.
Kind kind_of(const char* id, bool v34) {
  if (id[0] == '\0') return Kind::kPadding;
  if (id[0] == 'T') return Kind::kText;
  if (v34) {
    if (std::memcmp(id, "USLT", 4) == 0 || std::memcmp(id, "COMM", 4) == 0) return Kind::kText;
    if (std::memcmp(id, "APIC", 4) == 0) return Kind::kPicture;
    if (std::memcmp(id, "GEOB", 4) == 0 || std::memcmp(id, "CHAP", 4) == 0 ||
        std::memcmp(id, "PRIV", 4) == 0)
      return Kind::kOther;
    return Kind::kSkipped;
  }
  if (std::memcmp(id, "COM", 3) == 0) return Kind::kText;
  if (std::memcmp(id, "PIC", 3) == 0) return Kind::kPicture;
  if (std::memcmp(id, "GEO", 3) == 0 || std::memcmp(id, "CHA", 3) == 0 ||
      std::memcmp(id, "PRI", 3) == 0)
    return Kind::kOther;
  return Kind::kSkipped;
}

class Scanner {
 public:
  Scanner(const ReadAt& read, std::int64_t size, const Limits& limits)
      : read_(read), size_(size), limits_(limits) {}

  Findings run() {
    check_flac_pictures();
    count_ogg_comments();
    count_riff_info();
    std::uint8_t magic[4] = {};
    const bool matroska = read_exact(0, magic, 4) && std::memcmp(magic, kEbmlMagic, 4) == 0;
    std::vector<std::uint8_t> block;
    for (std::int64_t pos = 0; pos + static_cast<std::int64_t>(kHeaderSize) <= size_;) {
      const auto want = static_cast<std::size_t>(
          std::min<std::int64_t>(kSearchBlock + kHeaderSize, size_ - pos));
      block.resize(want);
      const std::size_t got = read_(pos, block.data(), want);
      if (got < kHeaderSize) break;
      const std::uint8_t* const begin = block.data();
      const std::uint8_t* const last = begin + (got - kHeaderSize);  // last header start
      for (const std::uint8_t* h = begin; h <= last; ++h) {
        h = static_cast<const std::uint8_t*>(std::memchr(h, 'I', static_cast<std::size_t>(last - h) + 1));
        if (h == nullptr) break;
        if (is_header(h)) walk_tag(pos + (h - begin), h);
      }
      for (const std::uint8_t* c = begin; c <= last; ++c) {
        c = static_cast<const std::uint8_t*>(
            memmem(c, static_cast<std::size_t>(last - c) + 4, "covr", 4));
        if (c == nullptr) break;
        check_cover_atom(pos + (c - begin));
      }
      for (const std::uint8_t* t = begin; matroska && t <= last; ++t) {
        t = static_cast<const std::uint8_t*>(
            memmem(t, static_cast<std::size_t>(last - t) + 4, kMatroskaTags, 4));
        if (t == nullptr) break;
        count_matroska_tags(pos + (t - begin));
      }
      pos += static_cast<std::int64_t>(got - kHeaderSize + 1);
    }
    std::sort(found_.patches.begin(), found_.patches.end(),
              [](const Patch& a, const Patch& b) { return a.offset < b.offset; });
    found_.patches.erase(std::unique(found_.patches.begin(), found_.patches.end(),
                                     [](const Patch& a, const Patch& b) { return a.offset == b.offset; }),
                         found_.patches.end());
    return std::move(found_);
  }

 private:
  // Reads exactly n bytes at offset, or returns false; bytes past the end read as zero,
  // as FFmpeg's avio_r8 gives them.
  bool read_exact(std::int64_t offset, std::uint8_t* dst, std::size_t n) {
    if (offset < 0) return false;
    std::memset(dst, 0, n);
    return read_(offset, dst, n) == n;
  }

  // FFmpeg's check_tag(): 1 when the four bytes there look like a frame ID or padding.
  int id_plausible_at(std::int64_t offset) {
    std::uint8_t t[4];
    if (!read_exact(offset, t, 4)) return -1;
    if (be(t, 4) == 0) return 1;
    for (std::uint8_t c : t) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return 0;
    }
    return 1;
  }

  void walk_tag(std::int64_t tag_offset, const std::uint8_t* header) {
    const int version = header[3];
    const unsigned flags = header[5];
    std::int64_t len = syncsafe(header + 6);
    std::int64_t pos = tag_offset + static_cast<std::int64_t>(kHeaderSize);
    bool v34 = false;
    std::int64_t frame_header = 6;
    if (version == 2) {
      if (flags & 0x40) return;  // "compression" in v2.2: FFmpeg skips the tag
    } else if (version == 3 || version == 4) {
      v34 = true;
      frame_header = 10;
    } else {
      return;
    }
    if (v34 && (flags & kTagFlagExtendedHeader)) {
      std::uint8_t b[4];
      read_exact(pos, b, 4);
      std::int64_t ext = static_cast<std::int32_t>(syncsafe(b));
      if (version == 4) ext -= 4;
      if (ext < 0) return;
      pos += 4 + ext;
      len -= ext + 4;
      if (len < 0) return;
    }
    while (len >= frame_header) {
      count_entries(1);
      char id[5] = {};
      std::uint32_t tlen = 0;
      unsigned tflags = 0;
      std::uint8_t b[4];
      if (v34) {
        if (!read_exact(pos, reinterpret_cast<std::uint8_t*>(id), 4)) break;
        read_exact(pos + 4, b, 4);
        tlen = be(b, 4);
        if (version == 4 && tlen > 0x7f) {
          if (tlen < static_cast<std::uint64_t>(len)) {
            const std::int64_t after_size = pos + 8;
            if (id_plausible_at(after_size + 2 + as_syncsafe(tlen)) == 1) {
              tlen = as_syncsafe(tlen);
            } else if (id_plausible_at(after_size + 2 + tlen) != 1) {
              break;
            }
          } else {
            tlen = as_syncsafe(tlen);
          }
        }
        read_exact(pos + 8, b, 2);
        tflags = be(b, 2);
      } else {
        if (!read_exact(pos, reinterpret_cast<std::uint8_t*>(id), 3)) break;
        read_exact(pos + 3, b, 3);
        tlen = be(b, 3);
      }
      if (tlen > kMaxFrameLength) break;
      len -= frame_header + tlen;
      if (len < 0) break;
      const std::int64_t body = pos + frame_header;
      const std::int64_t next = body + tlen;
      if (tlen > 0) {
        std::int64_t stored = tlen;
        std::int64_t inflated = tlen;
        if (tflags & kFlagDataLength) {
          if (tlen < 4) break;
          read_exact(body, b, 4);
          inflated = be(b, 4);
          stored -= 4;
        }
        const bool compressed = (tflags & kFlagCompressed) != 0;
        const Kind kind = (tflags & kFlagEncrypted) ? Kind::kSkipped : kind_of(id, v34);
        if (kind == Kind::kPadding) break;
        if (kind != Kind::kSkipped) {
          // Only what is really in the file can be read uncompressed; inflating writes
          // the declared size.
          const std::int64_t held =
              compressed ? inflated : std::min<std::int64_t>(stored, std::max<std::int64_t>(size_ - body, 0));
          judge(pos, v34 ? 4 : 3, kind, held, held + (compressed ? stored : 0));
        }
      }
      pos = next;
    }
  }

  // An iTunes cover: [size]['covr'][size]['data'][type][locale][picture], or with a 64-bit
  // size [1]['covr'][size64]['data']... FFmpeg reads the first 'data' child whole when it
  // is at least 16 bytes and fits in the atom (mov_read_udta_string, mov_read_covr); an
  // unknown atom type in the item list is skipped unread.
  void check_cover_atom(std::int64_t type_offset) {
    std::uint8_t b[16];
    if (!read_exact(type_offset - 4, b, 4)) return;
    std::int64_t atom_size = be(b, 4);
    std::int64_t child = type_offset + 4;
    if (atom_size == 1) {
      if (!read_exact(child, b, 8)) return;
      atom_size = static_cast<std::int64_t>((std::uint64_t{be(b, 4)} << 32) | be(b + 4, 4));
      child += 8;
      atom_size -= 8;
    }
    const std::int64_t payload = atom_size - 8;
    if (!read_exact(child, b, 8) || std::memcmp(b + 4, "data", 4) != 0) return;
    const std::int64_t data_size = be(b, 4);
    if (data_size < 16 || data_size > payload) return;
    const std::int64_t picture = data_size - 16;
    if (picture <= limits_.max_picture_bytes) return;
    hide(type_offset, 4);
    ++found_.hidden_pictures;
    found_.largest_hidden_picture = std::max(found_.largest_hidden_picture, picture);
  }

  // FFmpeg reads the ID3v2 tags at the start of any file, then the FLAC demuxer expects
  // "fLaC" and walks the metadata blocks (last-block flag, type, 24-bit length). A PICTURE
  // block whose picture length is larger than the block but equal to it modulo 2^24 is one
  // an old muxer truncated, and FFmpeg reads the rest of the picture from the file
  // (ff_flac_parse_picture's truncate_workaround, up to 500 MiB).
  // The VORBIS_COMMENT block's entries are counted.
  void check_flac_pictures() {
    std::int64_t pos = after_id3_tags();
    std::uint8_t h[kHeaderSize];
    if (!read_exact(pos, h, 4) || std::memcmp(h, "fLaC", 4) != 0) return;
    pos += 4;
    std::int64_t previous = -1;  // header of the block before, to mark it the last
    for (bool last = false; !last;) {
      std::uint8_t b[4];
      if (!read_exact(pos, b, 4)) return;
      last = (b[0] & 0x80) != 0;
      std::int64_t length = be(b + 1, 3);
      if ((b[0] & 0x7f) == 4) {
        std::uint8_t vendor[4];
        std::uint8_t count[4];
        if (read_exact(pos + 4, vendor, 4) && read_exact(pos + 8 + le32(vendor), count, 4))
          count_entries(vorbis_comment_entries(length, le32(vendor), le32(count)));
      }
      if ((b[0] & 0x7f) == 6) {
        const std::int64_t picture = truncated_picture_length(pos + 4, length);
        if (picture > limits_.max_picture_bytes && previous >= 0) {
          const std::int64_t whole = picture_fields_ + picture;
          found_.cuts.push_back({pos, 4 + whole});
          if (last) {
            std::uint8_t p = 0;
            read_exact(previous, &p, 1);
            found_.patches.push_back({previous, std::string(1, static_cast<char>(p | 0x80))});
          }
          ++found_.hidden_pictures;
          found_.largest_hidden_picture = std::max(found_.largest_hidden_picture, picture);
          length = whole;
        }
      }
      previous = pos;
      pos += 4 + length;
    }
  }

  // Where FFmpeg's reader of a format starts: after the ID3v2 tags at the file's start.
  std::int64_t after_id3_tags() {
    std::int64_t pos = 0;
    std::uint8_t h[kHeaderSize];
    while (read_exact(pos, h, kHeaderSize) && is_header(h)) {
      pos += static_cast<std::int64_t>(kHeaderSize) + syncsafe(h + 6) + ((h[5] & 0x10) ? 10 : 0);
    }
    return pos;
  }

  void count_entries(std::int64_t n) {
    entries_ += n;
    if (entries_ > limits_.max_tag_entries) {
      throw base::InputError("the file's tags are implausible (over " +
                             std::to_string(limits_.max_tag_entries) + " entries)");
    }
  }

  // An EBML element's ID (kept with its length marker, as IDs are written) or size at `p`,
  // `n` bytes available; false when none fits. An unknown size reads as -1.
  static bool ebml_number(const std::uint8_t* p, std::size_t n, bool is_id, std::uint64_t* value, std::size_t* used) {
    if (n == 0 || p[0] == 0) return false;
    std::size_t length = 1;
    while ((p[0] & (0x80 >> (length - 1))) == 0) ++length;
    if (length > n || (is_id && length > 4)) return false;
    std::uint64_t v = is_id ? p[0] : (p[0] & (0xffu >> length));
    bool all_ones = v == (0xffu >> length);
    for (std::size_t i = 1; i < length; ++i) {
      v = (v << 8) | p[i];
      all_ones = all_ones && p[i] == 0xff;
    }
    *value = !is_id && all_ones ? ~std::uint64_t{0} : v;
    *used = length;
    return true;
  }

  // Matroska tags (the Tags element wherever one stands: FFmpeg also reaches them through the
  // SeekHead, past clusters of unknown size): every SimpleTag, however deeply nested, is one
  // entry, as FFmpeg files each in a dictionary (matroska_convert_tags). A Tag element (one per
  // target: the file, a track, a chapter) costs FFmpeg far more: 1,000 of them, one SimpleTag
  // each, took 0.5 s an open and 20,000 over four minutes (FFmpeg 5.1), so at most
  // kMaxMatroskaTagElements are let through.
  void count_matroska_tags(std::int64_t offset) {
    Window file(read_, size_);
    const std::uint8_t* h = file.at(offset, 4);
    const std::size_t n = file.fill(offset + 4, 8);
    std::uint64_t length = 0;
    std::size_t used = 0;
    if (h == nullptr || !ebml_number(file.at(offset + 4, n), n, false, &length, &used)) return;
    const std::int64_t body = offset + 4 + static_cast<std::int64_t>(used);
    const std::int64_t end =
        length > static_cast<std::uint64_t>(size_ - body) ? size_ : body + static_cast<std::int64_t>(length);
    count_matroska_children(file, body, end, 0);
  }

  void count_matroska_children(Window& file, std::int64_t pos, std::int64_t end, int depth) {
    if (depth > 8) return;
    while (pos < end) {
      const std::size_t n = file.fill(pos, 12);
      const std::uint8_t* p = file.at(pos, n);
      std::uint64_t id = 0, length = 0;
      std::size_t id_bytes = 0, size_bytes = 0;
      if (p == nullptr || !ebml_number(p, n, true, &id, &id_bytes) ||
          !ebml_number(p + id_bytes, n - id_bytes, false, &length, &size_bytes))
        return;
      const std::int64_t body = pos + static_cast<std::int64_t>(id_bytes + size_bytes);
      if (length > static_cast<std::uint64_t>(end - body)) return;  // unknown or past its parent
      if (++matroska_elements_visited_ > kMaxMatroskaElementsVisited)
        throw base::InputError("the file is damaged (its Matroska elements overlap)");
      if (id == kMatroskaTag && ++matroska_tag_elements_ > kMaxMatroskaTagElements) {
        throw base::InputError("the file's tags are implausible (over " + std::to_string(kMaxMatroskaTagElements) +
                               " Matroska Tag elements)");
      }
      if (id == kMatroskaTag || id == kMatroskaSimpleTag) {
        if (id == kMatroskaSimpleTag) count_entries(1);
        count_matroska_children(file, body, body + static_cast<std::int64_t>(length), depth + 1);
      }
      pos = body + static_cast<std::int64_t>(length);
    }
  }

  // Walks the pages of an Ogg file as FFmpeg's demuxer does (a page whose checksum fails is
  // searched past for the next "OggS", a new stream starts at its first page) and counts the
  // comments of every comment packet, of every stream and every link of a chained file.
  // Each stream keeps a few bytes, never a packet: the count's place follows from the vendor
  // length. A run of bad pages is refused once it is more than damage (see OggDamage).
  void count_ogg_comments() {
    Window file(read_, size_);
    std::int64_t pos = after_id3_tags();
    const std::uint8_t* sync = file.at(pos, 4);
    if (sync == nullptr || std::memcmp(sync, "OggS", 4) != 0) return;
    std::map<std::uint32_t, OggStream> streams;
    OggDamage damage(size_);
    for (;;) {
      const OggPage page = ogg_page_at(file, pos);
      if (page.file_ends) return;  // FFmpeg's reader stops at a page the file cuts short
      if (!page.intact) {
        damage.bad_page(page.bytes_checked);
        pos = next_ogg_sync(file, pos + 4);  // FFmpeg goes on right after the "OggS"
        if (pos < 0) return;
        continue;
      }
      damage.good_page();
      const std::uint8_t* header = file.at(pos, static_cast<std::size_t>(page.length));
      const std::uint32_t serial = le32(header + 14);
      auto found = streams.find(serial);
      if (found == streams.end()) {
        if (streams.size() >= kMaxOggStreams) {
          throw base::InputError("the file holds more than " + std::to_string(kMaxOggStreams) +
                                 " Ogg streams");
        }
        found = streams.emplace(serial, OggStream{}).first;
      }
      OggStream& s = found->second;
      if (header[5] & 0x02) s = OggStream{};  // first page of a stream: a new link of a chain
      if ((header[5] & 0x01) == 0) s.packet = OggPacket{};  // not continued: a half packet is dropped
      const int segments = header[26];
      const std::uint8_t* data = header + kOggHeader + segments;
      for (int i = 0; i < segments; ++i) {
        const int lace = header[kOggHeader + i];
        add_to_packet(s, data, static_cast<std::size_t>(lace));
        data += lace;
        if (lace < 255) finish_ogg_packet(s);
      }
      pos += page.length;
    }
  }

  void add_to_packet(OggStream& s, const std::uint8_t* bytes, std::size_t n) {
    OggPacket& p = s.packet;
    const std::int64_t at = p.length;
    const std::size_t to_head = std::min(n, p.head.size() - std::min(p.head.size(), p.head_size));
    std::memcpy(p.head.data() + p.head_size, bytes, to_head);
    p.head_size += to_head;
    p.length += static_cast<std::int64_t>(n);
    if (p.count_at == kUnknown && p.head_size == p.head.size()) locate_count(s);
    p.take_count(bytes, at, n);
  }

  // Where in the packet the comment count stands, once its head tells what the packet is.
  void locate_count(OggStream& s) {
    OggPacket& p = s.packet;
    const std::int64_t offset = comment_offset(s);
    if (offset < 0 || static_cast<std::int64_t>(p.head_size) < offset + 4) {
      p.count_at = kNotComments;
      return;
    }
    p.comments_at = offset;
    p.count_at = offset + 4 + le32(p.head.data() + offset);
    p.take_count(p.head.data(), 0, p.head_size);
  }

  void finish_ogg_packet(OggStream& s) {
    OggPacket& p = s.packet;
    if (s.packets == 0) s.first_packet.assign(p.head.begin(), p.head.begin() + static_cast<std::ptrdiff_t>(p.head_size));
    if (p.count_at == kUnknown) locate_count(s);
    if (p.count_at != kNotComments) {
      count_entries(vorbis_comment_entries(p.length - p.comments_at, p.count_at - p.comments_at - 4,
                                           p.count_bytes == 4 ? le32(p.count.data()) : 0));
    }
    ++s.packets;
    p = OggPacket{};
  }

  struct OggPage {
    std::int64_t length = 0;
    bool intact = false;
    bool file_ends = false;
    std::int64_t bytes_checked = 0;  // what judging it took
  };

  // The Ogg page at `pos`: its length, whether its header and checksum hold, and whether the
  // file ends inside it.
  OggPage ogg_page_at(Window& file, std::int64_t pos) {
    OggPage page;
    page.bytes_checked = kOggHeader;
    const std::uint8_t* h = file.at(pos, kOggHeader);
    if (h == nullptr) {
      page.file_ends = true;
      return page;
    }
    if (std::memcmp(h, "OggS", 4) != 0 || h[4] != 0) return page;  // FFmpeg refuses any version but 0
    const int segments = h[26];
    h = file.at(pos, kOggHeader + static_cast<std::size_t>(segments));
    if (h == nullptr) {
      page.file_ends = true;
      return page;
    }
    std::size_t length = kOggHeader + static_cast<std::size_t>(segments);
    for (int i = 0; i < segments; ++i) length += h[kOggHeader + i];
    h = file.at(pos, length);
    if (h == nullptr) {
      page.file_ends = true;
      return page;
    }
    page.length = static_cast<std::int64_t>(length);
    page.bytes_checked = page.length;
    // The checksum is taken with its own field as zeros; av_crc gives it in this byte order.
    const AVCRC* table = av_crc_get_table(AV_CRC_32_IEEE);
    static constexpr std::uint8_t kZeros[4] = {};
    std::uint32_t crc = av_crc(table, 0, h, 22);
    crc = av_crc(table, crc, kZeros, 4);
    crc = av_crc(table, crc, h + 26, length - 26);
    page.intact = crc == be(h + 22, 4);
    return page;
  }

  // The next "OggS" at or after `from` within FFmpeg's search distance, or -1.
  std::int64_t next_ogg_sync(Window& file, std::int64_t from) {
    const std::size_t got = file.fill(from, static_cast<std::size_t>(kOggResync) + 4);
    if (got < 4) return -1;
    const std::uint8_t* window = file.at(from, got);
    const void* at = memmem(window, got, "OggS", 4);
    if (at == nullptr) return -1;
    return from + (static_cast<const std::uint8_t*>(at) - window);
  }

  // RIFF chunks (WAV, AVI) read front to back through one buffer: the items of every
  // LIST/INFO are counted, other lists looked into (AVI keeps its INFO inside 'hdrl' as well as
  // at the top). An RF64/BW64 file gives its data chunk's size in a ds64 chunk, and FFmpeg
  // steps over the data by it to read the chunks after.
  void count_riff_info() {
    Window file(read_, size_);
    std::int64_t pos = after_id3_tags();
    const std::uint8_t* h = file.at(pos, 12);
    if (h == nullptr) return;
    const bool rf64 = std::memcmp(h, "RF64", 4) == 0 || std::memcmp(h, "BW64", 4) == 0;
    if (!rf64 && std::memcmp(h, "RIFF", 4) != 0) return;
    pos += 12;
    std::int64_t data_size = -1;
    if (rf64) {
      h = file.at(pos, 8 + 16);
      if (h == nullptr || std::memcmp(h, "ds64", 4) != 0 || le32(h + 4) < 24) return;  // FFmpeg refuses
      data_size = static_cast<std::int64_t>(le32(h + 16) | (std::uint64_t{le32(h + 20)} << 32));
      if (data_size < 0) return;
    }
    count_riff_chunks(file, pos, size_, 0, data_size);
  }

  // The chunks from `pos` to `end`; `data_size`, when known, is the top-level data's size.
  void count_riff_chunks(Window& file, std::int64_t pos, std::int64_t end, int depth, std::int64_t data_size) {
    if (depth > 8) return;  // lists nested without end
    for (;;) {
      if (pos + 8 > end) return;
      const std::uint8_t* h = file.at(pos, 12);
      if (h == nullptr) return;
      std::int64_t size = le32(h + 4);
      if (depth == 0 && data_size >= 0 && std::memcmp(h, "data", 4) == 0) size = std::min(data_size, size_);
      const std::int64_t body = pos + 8;
      const std::int64_t body_end = std::min(body + size, end);
      if (std::memcmp(h, "LIST", 4) == 0 && size >= 4) {
        if (std::memcmp(h + 8, "INFO", 4) == 0) {
          count_info_items(file, body + 4, body_end);
        } else {
          count_riff_chunks(file, body + 4, body_end, depth + 1, -1);
        }
      }
      pos = body + size + (size & 1);
    }
  }

  // ff_read_riff_info: items of an ID and a size until the list ends; each one is an entry.
  void count_info_items(Window& file, std::int64_t pos, std::int64_t end) {
    while (pos + 8 <= end) {
      const std::uint8_t* h = file.at(pos, 8);
      if (h == nullptr) return;
      const std::int64_t size = le32(h + 4);
      if (size > end - pos - 8) return;
      count_entries(1);
      pos += 8 + size + (size & 1);
    }
  }

  // The picture length of a FLAC PICTURE block at `body` when it is a truncated one, else 0.
  // Leaves the size of the fields before the picture in picture_fields_.
  std::int64_t truncated_picture_length(std::int64_t body, std::int64_t length) {
    std::uint8_t b[4];
    if (!read_exact(body + 4, b, 4)) return 0;
    const std::int64_t mime = be(b, 4);
    if (mime >= 64 || !read_exact(body + 8 + mime, b, 4)) return 0;
    const std::int64_t description = be(b, 4);
    picture_fields_ = 32 + mime + description;
    if (!read_exact(body + picture_fields_ - 4, b, 4)) return 0;
    const std::int64_t picture = be(b, 4);
    const std::int64_t left = length - picture_fields_;
    if (left < 0 || picture <= left || (picture & 0xffffff) != left || picture > kMaxTruncatedPicture) return 0;
    return picture;
  }

  // `held`: the frame's content once read; `read_cost`: with the compressed copy beside it.
  void judge(std::int64_t id_offset, int id_size, Kind kind, std::int64_t held, std::int64_t read_cost) {
    if (kind == Kind::kPicture && held > limits_.max_picture_bytes) {
      hide(id_offset, id_size);
      ++found_.hidden_pictures;
      found_.largest_hidden_picture = std::max(found_.largest_hidden_picture, held);
      return;
    }
    const std::int64_t cost = kind == Kind::kText ? 2 * read_cost : read_cost;
    if (total_ + cost > limits_.max_tag_bytes) {
      hide(id_offset, id_size);
      ++found_.hidden_tag_frames;
      return;
    }
    total_ += cost;
  }

  // An ID of capitals keeps FFmpeg's guess about neighbouring ID3 frame sizes unchanged (it
  // only asks whether an ID is made of A-Z and 0-9) and names no frame or atom FFmpeg reads.
  void hide(std::int64_t id_offset, int id_size) {
    found_.patches.push_back({id_offset, std::string(static_cast<std::size_t>(id_size), 'X')});
  }

  const ReadAt& read_;
  std::int64_t size_;
  Limits limits_;
  Findings found_;
  std::int64_t total_ = 0;
  std::int64_t entries_ = 0;
  int matroska_tag_elements_ = 0;
  std::int64_t matroska_elements_visited_ = 0;
  std::int64_t picture_fields_ = 0;
};

}  // namespace

Findings scan(const ReadAt& read, std::int64_t size, const Limits& limits) {
  return Scanner(read, size, limits).run();
}

}  // namespace sy::io::guard
