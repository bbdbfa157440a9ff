#include "base/sizes.h"

#include <gtest/gtest.h>

namespace sy::base {
namespace {

TEST(SizesTest, ReadsWhatPeopleWrite) {
  EXPECT_EQ(parse_size("200M"), 200LL * 1024 * 1024);
  EXPECT_EQ(parse_size("200 MB"), 200LL * 1024 * 1024);
  EXPECT_EQ(parse_size("200mib"), 200LL * 1024 * 1024);
  EXPECT_EQ(parse_size("1.5G"), 1536LL * 1024 * 1024);
  EXPECT_EQ(parse_size("512k"), 512LL * 1024);
  EXPECT_EQ(parse_size("1000"), 1000);
  for (const char* bad : {"", "M", "-5M", "0", "2X", "1e30", "nan", "inf", " 5M", "5MM"})
    EXPECT_FALSE(parse_size(bad).has_value()) << bad;
}

TEST(SizesTest, PrintsShortRoundSizes) {
  EXPECT_EQ(size_text(200LL * 1024 * 1024), "200 MB");
  EXPECT_EQ(size_text(1572864), "1.5 MB");
  EXPECT_EQ(size_text(2048), "2 KB");
  EXPECT_EQ(size_text(512), "512 bytes");
  EXPECT_EQ(size_text(3LL * 1024 * 1024 * 1024), "3 GB");
}

}  // namespace
}  // namespace sy::base
