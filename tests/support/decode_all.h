#pragma once
// A whole file decoded into memory, for tests that measure a render's output.
#include <cstddef>
#include <string>
#include <vector>

#include "engine/testing/analysis.h"
#include "io/decoder.h"

namespace sy::testing {

inline Stereo decode_all(const std::string& path, int* rate = nullptr) {
  auto decoder = io::Decoder::open(path);
  if (rate) *rate = decoder->output_sample_rate();
  Stereo s;
  std::vector<float> l(4096), r(4096);
  float* planes[2] = {l.data(), r.data()};
  while (std::size_t n = decoder->read(planes, 4096)) {
    s.left.insert(s.left.end(), l.begin(), l.begin() + static_cast<std::ptrdiff_t>(n));
    s.right.insert(s.right.end(), r.begin(), r.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return s;
}

}  // namespace sy::testing
