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

TEST(Keys, ValidKeys) {
  EXPECT_TRUE(is_valid_key("uploads/abc/song.mp3"));
  EXPECT_FALSE(is_valid_key(""));
  EXPECT_FALSE(is_valid_key("/uploads/a"));
  EXPECT_FALSE(is_valid_key("uploads//a"));
  EXPECT_FALSE(is_valid_key("uploads/../a"));
  EXPECT_FALSE(is_valid_key("uploads/./a"));
  EXPECT_FALSE(is_valid_key("uploads/a/"));
  EXPECT_FALSE(is_valid_key("uploads\\a"));
  EXPECT_FALSE(is_valid_key(std::string("a\0b", 3)));
}

TEST(Keys, ProductKeys) {
  EXPECT_EQ(upload_key("0123", "My Song.mp3"), "uploads/0123/My Song.mp3");
  EXPECT_EQ(processed_key("0123", "My Song.mp3", "mp3"), "processed/0123/My Song (8D).mp3");
  EXPECT_EQ(processed_key("0123", "track.flac", "m4a"), "processed/0123/track (8D).m4a");
  EXPECT_EQ(processed_key("0123", "noext", "opus"), "processed/0123/noext (8D).opus");
  EXPECT_EQ(key_basename("processed/0123/x (8D).mp3"), "x (8D).mp3");
  EXPECT_EQ(content_type_for("a/b.MP3"), "audio/mpeg");
  EXPECT_EQ(content_type_for("a/b.bin"), "application/octet-stream");
}

}  // namespace
}  // namespace sy::storage
