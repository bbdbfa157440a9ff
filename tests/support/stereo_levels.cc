#include "tests/support/stereo_levels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "tests/support/process.h"

namespace sy::testing {

std::vector<float> decode_stereo(const TempDir& dir, const std::string& path, int rate) {
  const std::string raw = dir.file("decoded.f32");
  const std::string command = "ffmpeg -v error -y -i " + quote(path) + " -map 0:a:0 -f f32le -ac 2 -ar " +
                              std::to_string(rate) + " " + quote(raw);
  if (shell(command) != 0) throw std::runtime_error("could not decode: " + command);
  const std::string bytes = read_file(raw);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

double level_difference_spread(const std::vector<float>& stereo, int rate) {
  const auto window = static_cast<std::size_t>(rate / 4);
  double lo = 1e9, hi = -1e9;
  for (std::size_t start = 0; (start + window) * 2 <= stereo.size(); start += window) {
    double l = 1e-12, r = 1e-12;
    for (std::size_t i = start; i < start + window; ++i) {
      const auto left = static_cast<double>(stereo[2 * i]);
      const auto right = static_cast<double>(stereo[2 * i + 1]);
      l += left * left;
      r += right * right;
    }
    if (l + r < 1e-6 * static_cast<double>(window)) continue;  // silence says nothing
    const double d = 10 * std::log10(l / r);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  return hi - lo;
}

}  // namespace sy::testing
