#include "io/input_file.h"

#include <gtest/gtest.h>

#include <string>

#include "base/errors.h"
#include "io/test_bombs.h"
#include "tests/support/temp_dir.h"

extern "C" {
#include <libavformat/avio.h>
}

namespace sy::io {
namespace {

// Everything FFmpeg would read from `file`, `chunk` bytes at a time.
std::string read_all(InputFile& file, int chunk) {
  AVIOContext* io = file.io();
  std::string out;
  std::string buf(static_cast<std::size_t>(chunk), '\0');
  for (int got; (got = avio_read(io, reinterpret_cast<unsigned char*>(buf.data()), chunk)) > 0;) {
    out.append(buf.data(), static_cast<std::size_t>(got));
  }
  return out;
}

TEST(InputFile, ShowsThePatchesAndLeavesOutTheCuts) {
  testing::TempDir dir;
  std::string bytes;
  for (int i = 0; i < 300000; ++i) bytes.push_back(static_cast<char>('a' + i % 26));
  testing::bombs::write_file(dir.file("f"), bytes);

  std::string expected = bytes;
  expected.replace(100, 4, "XXXX");           // a patch
  expected.replace(250000, 4, "YYYY");        // one after the cut, in file offsets below
  expected.erase(70000, 100000);              // the cut, [70000, 170000)
  for (int chunk : {1, 7, 4096, 1 << 20}) {
    InputFile file(dir.file("f"));
    file.set_edits({{100, "XXXX"}, {250000, "YYYY"}}, {{70000, 100000}});
    EXPECT_EQ(avio_size(file.io()), static_cast<std::int64_t>(expected.size()));
    EXPECT_EQ(read_all(file, chunk), expected) << "chunk " << chunk;
  }
  // Seeking is in what FFmpeg is shown, across the cut.
  InputFile file(dir.file("f"));
  file.set_edits({{250000, "YYYY"}}, {{70000, 100000}});
  ASSERT_EQ(avio_seek(file.io(), 150000, SEEK_SET), 150000);
  unsigned char four[4];
  ASSERT_EQ(avio_read(file.io(), four, 4), 4);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(four), 4), "YYYY");
}

TEST(InputFile, AMissingFileIsAnInputError) {
  EXPECT_THROW(InputFile("/nonexistent/file.mp3"), base::InputError);
}

}  // namespace
}  // namespace sy::io
