#include "io/tag_guard.h"

#include <chrono>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/errors.h"
#include "io/test_bombs.h"

namespace sy::io::guard {
namespace {

namespace bombs = testing::bombs;

constexpr std::int64_t kMiB = 1 << 20;

Limits limits() {
  Limits l;
  l.max_picture_bytes = 16 * kMiB;
  l.max_tag_bytes = 40 * kMiB;
  l.max_tag_entries = 1000;
  return l;
}

Findings scan_bytes(const std::string& bytes, const Limits& l = limits()) {
  return scan(
      [&bytes](std::int64_t offset, std::uint8_t* dst, std::size_t n) -> std::size_t {
        if (offset >= static_cast<std::int64_t>(bytes.size())) return 0;
        const std::size_t got = std::min(n, bytes.size() - static_cast<std::size_t>(offset));
        std::memcpy(dst, bytes.data() + offset, got);
        return got;
      },
      static_cast<std::int64_t>(bytes.size()), l);
}

// What FFmpeg would see: the file with the patches applied.
std::string patched(std::string bytes, const Findings& f) {
  for (const Patch& p : f.patches) bytes.replace(static_cast<std::size_t>(p.offset), p.bytes.size(), p.bytes);
  return bytes;
}

const std::string kAudio(4096, '\x55');

TEST(TagGuard, OggCommentsAreCountedEvenBehindAPageWithABadChecksum) {
  const std::string head = "OpusHead" + std::string(11, '\x01');
  std::vector<std::string> packets{head, "OpusTags" + bombs::vorbis_comments(10)};
  for (int i = 0; i < 20; ++i) packets.push_back(kAudio);
  EXPECT_NO_THROW(scan_bytes(bombs::ogg_pages(packets)));
  packets[1] = "OpusTags" + bombs::vorbis_comments(2000);
  const std::string ogg = bombs::ogg_pages(packets);
  EXPECT_THROW(scan_bytes(ogg), base::InputError);
  // A page header whose lacing claims the next 65 KB and whose checksum fails: FFmpeg searches
  // on for "OggS" right after it and reads the comment pages it seemed to hold.
  const std::size_t second = ogg.find("OggS", 4);
  const std::string decoy = "OggS" + std::string(22, '\0') + std::string(256, '\xff');
  EXPECT_THROW(scan_bytes(ogg.substr(0, second) + decoy + ogg.substr(second)), base::InputError);
}

// What the scan refuses the file for, or "" when it does not.
std::string refusal(const std::string& bytes) {
  try {
    scan_bytes(bytes);
  } catch (const base::InputError& e) {
    return e.what();
  }
  return "";
}

std::string repeated(const std::string& piece, std::size_t bytes) {
  std::string out;
  out.reserve(bytes + piece.size());
  while (out.size() < bytes) out += piece;
  return out;
}

const std::string kOpusHead = "OpusHead" + std::string(11, '\x01');

// Page headers five bytes apart: FFmpeg (and a naive walk) judges each as a page and searches
// on from it, tens of millions of times in a 200 MB file.
TEST(TagGuard, OggPageHeadersInARowAreRefusedAsDamage) {
  const std::string start = bombs::ogg_pages({kOpusHead});
  for (const char version : {'\x01', '\0'}) {
    const std::string file = start + repeated(std::string("OggS") + version, 2 * kMiB);
    EXPECT_EQ(refusal(file), "the file is damaged (over 64 broken Ogg pages in a row)");
  }
}

// Void elements each hiding a Tags ID followed by a size past the end of the file: every
// hidden ID starts a walk that runs over all the Voids after it (quadratic: about a minute
// for 1 MB before the walks were counted together).
TEST(TagGuard, MatroskaTagsIdsHiddenInVoidsAreRefusedAsDamage) {
  const std::string ebml("\x1a\x45\xdf\xa3\x80", 5);  // an empty EBML header
  const std::string hidden("\xec\x8c\x12\x54\xc3\x67\x01\x7f\xff\xff\xff\xff\xff\xff", 14);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal(ebml + repeated(hidden, 2 * kMiB)), "the file is damaged (its Matroska elements overlap)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// Good pages between the bad ones end each run; what the bad pages claim is still bounded.
TEST(TagGuard, OggBadPagesClaimingMoreThanTwiceTheFileAreRefused) {
  const std::string good = bombs::ogg_pages({"x"});
  const std::string bad = "OggS" + std::string(22, '\0') + std::string(256, '\xff');  // claims 65 KB
  const std::string group = repeated(bad, 10 * bad.size()) + good;
  EXPECT_EQ(refusal(bombs::ogg_pages({kOpusHead}) + repeated(group, 4 * kMiB)),
            "the file is damaged (its broken Ogg pages claim more than twice its size)");
}

// A damaged page here and there is played past, and the comments behind it still counted.
TEST(TagGuard, OggWithScatteredDamagedPagesIsWalkedToTheEnd) {
  std::vector<std::string> packets{kOpusHead, "OpusTags" + bombs::vorbis_comments(10)};
  for (int i = 0; i < 200; ++i) packets.push_back(kAudio);
  std::string file = bombs::ogg_pages(packets);
  for (std::size_t page = file.find("OggS", 4), n = 0; page != std::string::npos; page = file.find("OggS", page + 4)) {
    if (++n % 2 == 0) file[page + 100] ^= 0x5a;  // every other audio page fails its checksum
  }
  EXPECT_EQ(refusal(file), "");
  EXPECT_EQ(refusal(file + bombs::ogg_pages({kOpusHead, "OpusTags" + bombs::vorbis_comments(2000)}, 2)),
            "the file's tags are implausible (over 1000 entries)");
}

// FFmpeg cannot open more streams than that; each one the walk follows costs it memory.
TEST(TagGuard, OggWithMoreStreamsThanFfmpegOpensIsRefused) {
  std::string file;
  for (std::uint32_t serial = 1; serial <= 1000; ++serial) file += bombs::ogg_pages({kOpusHead}, serial);
  EXPECT_EQ(refusal(file), "");
  EXPECT_EQ(refusal(file + bombs::ogg_pages({kOpusHead}, 1001)), "the file holds more than 1000 Ogg streams");
}

// The count stands behind the vendor string, however long: read where it is, not guessed.
TEST(TagGuard, OggCommentCountBehindALongVendorIsRead) {
  std::string comments = bombs::vorbis_comments(2000);
  const std::uint32_t vendor = 200000;
  const std::uint32_t old_vendor = static_cast<std::uint8_t>(comments[0]) | (static_cast<std::uint8_t>(comments[1]) << 8);
  std::string length;
  for (int i = 0; i < 4; ++i) length.push_back(static_cast<char>((vendor >> (8 * i)) & 0xff));
  comments = length + std::string(vendor, 'v') + comments.substr(4 + old_vendor);
  EXPECT_EQ(refusal(bombs::ogg_pages({kOpusHead, "OpusTags" + comments})),
            "the file's tags are implausible (over 1000 entries)");
  // A count of 10 behind it: the 200 KB vendor is no reason to guess more.
  std::string few = bombs::vorbis_comments(10);
  const std::uint32_t few_vendor = static_cast<std::uint8_t>(few[0]) | (static_cast<std::uint8_t>(few[1]) << 8);
  few = length + std::string(vendor, 'v') + few.substr(4 + few_vendor) + std::string(100000, '\0');
  EXPECT_EQ(refusal(bombs::ogg_pages({kOpusHead, "OpusTags" + few})), "");
}

// FFmpeg steps over an RF64 file's data by the ds64 chunk's size and reads the chunks after it.
TEST(TagGuard, Rf64InfoAfterTheDataIsCounted) {
  EXPECT_EQ(refusal(bombs::wav_with_info(100, true)), "");
  EXPECT_EQ(refusal(bombs::wav_with_info(2000, true)), "the file's tags are implausible (over 1000 entries)");
  EXPECT_EQ(refusal(bombs::wav_with_info(2000)), "the file's tags are implausible (over 1000 entries)");
}

TEST(TagGuard, AFileWithoutTagsIsLeftAlone) {
  const Findings f = scan_bytes(bombs::wav(44100, 2, 4, 100000));
  EXPECT_TRUE(f.patches.empty());
  EXPECT_EQ(f.hidden_pictures, 0);
}

TEST(TagGuard, OrdinaryTagIsLeftAlone) {
  const std::string tag = bombs::id3_tag(bombs::id3_frame("TIT2", bombs::text_payload("Song")) +
                                         bombs::id3_frame("APIC", bombs::apic_payload(std::string(300000, 'j'))));
  const Findings f = scan_bytes(tag + kAudio);
  EXPECT_TRUE(f.patches.empty());
}

TEST(TagGuard, PictureOverTheLimitIsRenamedAndTextKept) {
  const std::string title = bombs::id3_frame("TIT2", bombs::text_payload("Song"));
  const std::string picture = bombs::id3_frame("APIC", bombs::apic_payload(std::string(17 * kMiB, 'j')));
  const std::string file = bombs::id3_tag(title + picture) + kAudio;
  const Findings f = scan_bytes(file);
  ASSERT_EQ(f.patches.size(), 1u);
  EXPECT_EQ(f.patches[0].offset, static_cast<std::int64_t>(10 + title.size()));
  EXPECT_EQ(f.hidden_pictures, 1);
  EXPECT_GT(f.largest_hidden_picture, 17 * kMiB);
  const std::string seen = patched(file, f);
  EXPECT_EQ(seen.substr(10, 4), "TIT2");
  EXPECT_EQ(seen.substr(10 + title.size(), 4), "XXXX");
}

TEST(TagGuard, CompressedFramesCountWhatTheyInflateTo) {
  // 30 frames of 5 MiB each arrive in a few kilobytes; only the first ones fit the budget.
  std::string frames;
  for (int i = 0; i < 30; ++i) {
    frames += bombs::id3_compressed_frame(
        "APIC", bombs::apic_payload(std::string(5 * kMiB, '\0'), "pic" + std::to_string(i)));
  }
  const std::string file = bombs::id3_tag(frames) + kAudio;
  ASSERT_LT(file.size(), 1u << 20);
  const Findings f = scan_bytes(file);
  EXPECT_EQ(f.hidden_pictures, 0);
  EXPECT_GE(f.hidden_tag_frames, 22);
  EXPECT_LE(f.hidden_tag_frames, 24);
  EXPECT_EQ(static_cast<int>(f.patches.size()), f.hidden_tag_frames);
  // A compressed picture over the limit is a picture over the limit.
  const Findings big = scan_bytes(
      bombs::id3_tag(bombs::id3_compressed_frame("APIC", bombs::apic_payload(std::string(40 * kMiB, '\0')))) + kAudio);
  EXPECT_EQ(big.hidden_pictures, 1);
}

TEST(TagGuard, TagsAnywhereInTheFileAreWalked) {
  // As in a WAV 'id3 ' chunk or between ADTS frames: not at the start.
  const std::string tag = bombs::id3_tag(bombs::id3_frame("APIC", bombs::apic_payload(std::string(17 * kMiB, 'j'))));
  const std::string file = bombs::wav(44100, 2, 4, 3000000) + tag;
  const Findings f = scan_bytes(file);
  ASSERT_EQ(f.patches.size(), 1u);
  EXPECT_EQ(f.patches[0].offset, static_cast<std::int64_t>(file.size() - tag.size() + 10));
}

TEST(TagGuard, Version22FramesPastTheBudgetAreRenamedWithThreeLetters) {
  // v2.2 sizes have 24 bits, so no single picture passes 16 MiB; three 15 MiB ones pass the
  // budget for all tags.
  std::string frames;
  std::vector<std::int64_t> offsets;
  for (int i = 0; i < 3; ++i) {
    offsets.push_back(10 + static_cast<std::int64_t>(frames.size()));
    const std::uint32_t size = 15 * kMiB + 6;
    frames += "PIC";
    for (int shift : {16, 8, 0}) frames.push_back(static_cast<char>((size >> shift) & 0xff));
    frames += std::string("\0JPG\x03\0", 6) + std::string(15 * kMiB, 'j');
  }
  std::string header("ID3\x02\x00\x00", 6);
  for (int shift : {21, 14, 7, 0}) header.push_back(static_cast<char>((frames.size() >> shift) & 0x7f));
  const Findings f = scan_bytes(header + frames + kAudio);
  ASSERT_EQ(f.patches.size(), 1u);
  EXPECT_EQ(f.patches[0].offset, offsets[2]);
  EXPECT_EQ(f.patches[0].bytes, "XXX");
  EXPECT_EQ(f.hidden_tag_frames, 1);
}

TEST(TagGuard, Version24SizeWrittenAsAPlainIntegerIsFollowedAsFfmpegDoes) {
  // Some writers put a plain 32-bit size where v2.4 wants a syncsafe one; FFmpeg picks the
  // reading after which the next frame ID looks valid. The picture comes second, so the
  // guard only finds it if it stepped over the first frame the same way.
  const std::string text(200, 't');  // 201 bytes: 0xC9, not syncsafe
  std::string first = "TXXX";
  for (int shift : {24, 16, 8, 0}) first.push_back(static_cast<char>(((text.size() + 1) >> shift) & 0xff));
  first += std::string("\0\0", 2) + bombs::text_payload(text);
  const std::string picture = bombs::id3_frame("APIC", bombs::apic_payload(std::string(17 * kMiB, 'j')));
  const Findings f = scan_bytes(bombs::id3_tag(first + picture) + kAudio);
  ASSERT_EQ(f.patches.size(), 1u);
  EXPECT_EQ(f.patches[0].offset, static_cast<std::int64_t>(10 + first.size()));
}

TEST(TagGuard, TooManyFramesRefuseTheFile) {
  std::string frames;
  for (int i = 0; i < 1001; ++i) frames += bombs::id3_frame("TXXX", bombs::text_payload("k" + std::to_string(i)));
  try {
    scan_bytes(bombs::id3_tag(frames) + kAudio);
    FAIL() << "expected an InputError";
  } catch (const base::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("implausible"), std::string::npos) << e.what();
  }
}

std::string be32(std::uint32_t v) {
  std::string s;
  for (int shift : {24, 16, 8, 0}) s.push_back(static_cast<char>((v >> shift) & 0xff));
  return s;
}

TEST(TagGuard, Mp4CoverOverTheLimitIsRenamed) {
  const auto cover_atom = [](std::size_t picture) {
    const std::string data = be32(static_cast<std::uint32_t>(16 + picture)) + "data" + be32(13) + be32(0) +
                             std::string(picture, 'j');
    return be32(static_cast<std::uint32_t>(8 + data.size())) + "covr" + data;
  };
  const std::string small = "....ilst" + cover_atom(1000);
  EXPECT_TRUE(scan_bytes(small).patches.empty());
  const std::string big = "....ilst" + cover_atom(17 * kMiB);
  const Findings f = scan_bytes(big);
  ASSERT_EQ(f.patches.size(), 1u);
  EXPECT_EQ(f.patches[0].offset, 12);
  EXPECT_EQ(patched(big, f).substr(12, 4), "XXXX");
  EXPECT_EQ(f.largest_hidden_picture, 17 * kMiB);
}

// "fLaC", a STREAMINFO block and then `blocks`.
std::string flac(const std::string& blocks) {
  return "fLaC" + std::string("\x00\x00\x00\x22", 4) + std::string(34, '\x01') + blocks;
}

// A PICTURE block as old muxers wrote one over 16 MiB: its 24-bit length truncated.
std::string picture_block(std::size_t picture, bool last) {
  const std::string body = be32(3) + be32(10) + "image/jpeg" + be32(0) + std::string(16, '\0') +
                           be32(static_cast<std::uint32_t>(picture)) + std::string(picture, 'j');
  const std::uint32_t length = static_cast<std::uint32_t>(body.size()) & 0xffffff;
  std::string header(1, static_cast<char>((last ? 0x80 : 0) | 6));
  for (int shift : {16, 8, 0}) header.push_back(static_cast<char>((length >> shift) & 0xff));
  return header + body;
}

TEST(TagGuard, FlacPictureOverTheLimitIsCutOutAndTheBlockBeforeMadeLast) {
  const std::string file = flac(picture_block(17 * kMiB, true)) + kAudio;
  const Findings f = scan_bytes(file);
  ASSERT_EQ(f.cuts.size(), 1u);
  EXPECT_EQ(f.cuts[0].offset, 4 + 4 + 34);
  EXPECT_EQ(f.cuts[0].length, static_cast<std::int64_t>(file.size() - kAudio.size()) - (4 + 4 + 34));
  ASSERT_EQ(f.patches.size(), 1u);
  EXPECT_EQ(f.patches[0].offset, 4);
  EXPECT_EQ(f.patches[0].bytes, std::string(1, '\x80'));
  EXPECT_EQ(f.hidden_pictures, 1);
}

TEST(TagGuard, FlacPictureNotLastIsCutAlone) {
  const std::string padding = std::string("\x81\x00\x00\x04", 4) + std::string(4, '\0');
  const Findings f = scan_bytes(flac(picture_block(17 * kMiB, false) + padding) + kAudio);
  ASSERT_EQ(f.cuts.size(), 1u);
  EXPECT_TRUE(f.patches.empty());
}

TEST(TagGuard, FlacPictureUnderTheLimitIsLeftAlone) {
  const Findings f = scan_bytes(flac(picture_block(100000, true)) + kAudio);
  EXPECT_TRUE(f.cuts.empty());
  EXPECT_TRUE(f.patches.empty());
}

}  // namespace
}  // namespace sy::io::guard
