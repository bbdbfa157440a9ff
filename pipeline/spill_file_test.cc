#include "pipeline/spill_file.h"

#include <filesystem>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace sy::pipeline {
namespace {

namespace fs = std::filesystem;

TEST(SpillFileTest, GivesBackEveryFrameInOrderWhateverTheBlockSizes) {
  const fs::path dir = fs::temp_directory_path() / ("sy-spill-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  {
    SpillFile spill(dir.string());
    // More than one internal buffer's worth, written and read in uneven pieces.
    const std::size_t total = 100000;
    std::vector<float> l(total), r(total);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (std::size_t i = 0; i < total; ++i) {
      l[i] = u(rng);
      r[i] = u(rng);
    }
    for (std::size_t done = 0, step = 1; done < total; step = step * 3 + 7) {
      const std::size_t n = std::min(step % 5000 + 1, total - done);
      spill.write(engine::ConstAudioView({l.data(), r.data()}, total).slice(done, n));
      done += n;
    }
    EXPECT_EQ(spill.frames(), static_cast<std::int64_t>(total));
    // Nothing is visible in the folder: a crash cannot leave the audio behind.
    EXPECT_TRUE(fs::is_empty(dir));

    for (int round = 0; round < 2; ++round) {  // reading twice, as the limiter check does
      spill.rewind();
      std::vector<float> bl(1023), br(1023), gl, gr;
      float* p[2] = {bl.data(), br.data()};
      while (std::size_t n = spill.read(p, bl.size())) {
        gl.insert(gl.end(), bl.begin(), bl.begin() + static_cast<std::ptrdiff_t>(n));
        gr.insert(gr.end(), br.begin(), br.begin() + static_cast<std::ptrdiff_t>(n));
      }
      EXPECT_EQ(gl, l);
      EXPECT_EQ(gr, r);
    }

    // From the middle, as the encoder pilot reads its excerpt; past the end reads nothing.
    spill.seek(65537);
    std::vector<float> bl(40000), br(40000);
    float* p[2] = {bl.data(), br.data()};
    ASSERT_EQ(spill.read(p, bl.size()), total - 65537);
    EXPECT_EQ(bl[0], l[65537]);
    EXPECT_EQ(br[total - 65537 - 1], r[total - 1]);
    spill.seek(static_cast<std::int64_t>(total) + 5);
    EXPECT_EQ(spill.read(p, bl.size()), 0u);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(SpillFileTest, MissingFolderIsAClearError) {
  try {
    SpillFile spill("/nonexistent/folder");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/folder"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sy::pipeline
