#include "storage/keys.h"

#include <gtest/gtest.h>

namespace sy::storage {
namespace {

TEST(Keys, SanitiseKeepsOrdinaryNames) {
  EXPECT_EQ(sanitise_filename("My Song (live).mp3"), "My Song (live).mp3");
  EXPECT_EQ(sanitise_filename("Beyonc\xC3\xA9 - Halo.flac"), "Beyonc\xC3\xA9 - Halo.flac");
}

TEST(Keys, SanitiseRemovesPathsAndHostileCharacters) {
  EXPECT_EQ(sanitise_filename("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitise_filename("C:\\Users\\me\\song.mp3"), "song.mp3");
  EXPECT_EQ(sanitise_filename(".."), "upload");
  EXPECT_EQ(sanitise_filename(".hidden.mp3"), "hidden.mp3");
  EXPECT_EQ(sanitise_filename(""), "upload");
  EXPECT_EQ(sanitise_filename("a\nb\x01?*<>.mp3"), "a_b_.mp3");
  EXPECT_EQ(sanitise_filename("bad\xFFutf8.mp3"), "bad_utf8.mp3");
  const std::string longname = std::string(300, 'x') + ".mp3";
  const auto s = sanitise_filename(longname);
  EXPECT_LE(s.size(), 120u);
  EXPECT_EQ(s.substr(s.size() - 4), ".mp3");
  for (const char* hostile : {"../x", "/abs", "a/../../b", "%2e%2e", "\\..\\x", "a\0b"}) {
    EXPECT_TRUE(is_valid_key(upload_key("id", hostile))) << hostile;
  }
}

// Found by fuzz_keys: a long name without a usable extension was cut after a blank.
TEST(Keys, ShortenedNamesEndLikeAnyOther) {
  const std::string name = std::string(119, 'a') + " b" + std::string(20, 'c');
  const auto s = sanitise_filename(name);
  EXPECT_EQ(s, std::string(119, 'a'));
  EXPECT_EQ(sanitise_filename(s), s);
  EXPECT_EQ(sanitise_filename(std::string(119, 'a') + ".." + std::string(20, 'c')), std::string(119, 'a'));
}

TEST(Keys, SanitiseDropsInvisibleAndDirectionChangingCharacters) {
  // "evil<RLO>3pm.exe" shows as "evilexe.mp3" in a right-to-left aware page.
  EXPECT_EQ(sanitise_filename("evil\xE2\x80\xAE" "3pm.exe"), "evil3pm.exe");
  EXPECT_EQ(sanitise_filename("a\xE2\x80\x8B" "b\xE2\x80\x8F" "c.mp3"), "abc.mp3");  // ZWSP, RLM
  EXPECT_EQ(sanitise_filename("\xEF\xBB\xBFsong.mp3"), "song.mp3");                  // BOM
  EXPECT_EQ(sanitise_filename("x\xE2\x81\xA6y\xE2\x81\xA9.mp3"), "xy.mp3");          // LRI, PDI
  EXPECT_EQ(sanitise_filename("line\xE2\x80\xA8" "break\xE2\x80\xA9.mp3"), "linebreak.mp3");
  EXPECT_EQ(sanitise_filename("c1\xC2\x85\xC2\x9B" "ctl.mp3"), "c1ctl.mp3");            // NEL, CSI
  EXPECT_EQ(sanitise_filename("\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD"), "upload");
  // Ordinary scripts, right-to-left ones included, stay as they are.
  EXPECT_EQ(sanitise_filename("\xD7\xA9\xD7\x99\xD7\xA8.mp3"), "\xD7\xA9\xD7\x99\xD7\xA8.mp3");
  EXPECT_EQ(sanitise_filename("\xE6\x97\xA5\xE6\x9C\xAC.flac"), "\xE6\x97\xA5\xE6\x9C\xAC.flac");
  // Encodings that are not UTF-8 (overlong "/", a surrogate) are replaced, never decoded.
  EXPECT_EQ(sanitise_filename("a\xC0\xAF" "b.mp3"), "a_b.mp3");
  EXPECT_EQ(sanitise_filename("a\xED\xA0\x80" "b.mp3"), "a_b.mp3");
}

TEST(Keys, ValidKeys) {
  EXPECT_TRUE(is_valid_key("uploads/abc/song.mp3"));
  for (const char* key : {"", "/uploads/a", "uploads//a", "uploads/../a", "uploads/./a", "uploads/a/",
                          "uploads\\a"})
    EXPECT_FALSE(is_valid_key(key)) << key;
  EXPECT_FALSE(is_valid_key(std::string("a\0b", 3)));
}

TEST(Keys, ProductKeys) {
  EXPECT_EQ(upload_key("0123", "My Song.mp3"), "uploads/0123/My Song.mp3");
  // PRODUCT.md's result key: processed/<job-id>/<name> (8D).<ext>.
  EXPECT_EQ(processed_key("0123", "My Song.mp3", "mp3"), "processed/0123/My Song (8D).mp3");
  EXPECT_EQ(processed_key("0123", "track.flac", "m4a"), "processed/0123/track (8D).m4a");
  EXPECT_EQ(processed_key("0123", "noext", "opus"), "processed/0123/noext (8D).opus");
  // An attempt's own upload, under another prefix, with the same last segment.
  EXPECT_EQ(attempt_key("0123", "My Song.mp3", "mp3", "1-ab"), "attempts/0123/1-ab/My Song (8D).mp3");
  EXPECT_NE(attempt_key("0123", "a.mp3", "mp3", "1-ab"), attempt_key("0123", "a.mp3", "mp3", "1-cd"));
  EXPECT_EQ(key_basename(attempt_key("0123", "a.mp3", "mp3", "1-ab")),
            key_basename(processed_key("0123", "a.mp3", "mp3")));
  const auto prefixes = job_key_prefixes("0123");
  EXPECT_EQ(prefixes[0], "uploads/0123/");
  EXPECT_EQ(prefixes[1], "processed/0123/");
  EXPECT_EQ(prefixes[2], "attempts/0123/");
  EXPECT_EQ(key_basename("processed/0123/x (8D).mp3"), "x (8D).mp3");
  EXPECT_EQ(processed_key("0123", "My Song.mp3", "mp3", true), "processed/0123/My Song (8D preview).mp3");
  EXPECT_EQ(attempt_key("0123", "My Song.mp3", "mp3", "1-ab", true),
            "attempts/0123/1-ab/My Song (8D preview).mp3");
  EXPECT_EQ(content_type_for("a/b.MP3"), "audio/mpeg");
  EXPECT_EQ(content_type_for("a/b.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace sy::storage
