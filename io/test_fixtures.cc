#include "io/test_fixtures.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <stdexcept>

#include "tests/support/sine_fit.h"

namespace sy::testing {

void ffmpeg(const std::string& args) {
  const std::string cmd = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args;
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("fixture command failed: " + cmd);
}

std::string ffmpeg_file(const TempDir& dir, const std::string& name, const std::string& args) {
  const std::string path = dir.file(name);
  ffmpeg(args + " " + path);
  return path;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void truncate_file(const std::string& path, double keep_fraction) {
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(
      path, static_cast<std::uintmax_t>(static_cast<double>(size) * keep_fraction));
}

Decoded decode_all(const std::string& path, const io::DecodeOptions& options, std::size_t chunk) {
  auto decoder = io::Decoder::open(path, options);
  Decoded out;
  out.sample_rate = decoder->output_sample_rate();
  out.info = decoder->info();
  std::vector<float> l(chunk), r(chunk);
  float* dst[2] = {l.data(), r.data()};
  for (;;) {
    const std::size_t n = decoder->read(dst, chunk);
    if (n == 0) break;
    out.left.insert(out.left.end(), l.begin(), l.begin() + static_cast<std::ptrdiff_t>(n));
    out.right.insert(out.right.end(), r.begin(), r.begin() + static_cast<std::ptrdiff_t>(n));
  }
  if (decoder->frames_read() != static_cast<std::int64_t>(out.frames())) {
    throw std::runtime_error("frames_read() disagrees with the frames delivered");
  }
  return out;
}

Decoded decode_made(const std::string& name, const std::string& args) {
  TempDir dir;
  return decode_all(ffmpeg_file(dir, name, args));
}

ToneFit fit_tone(const std::vector<float>& x, double hz, int rate, std::size_t begin,
                 std::size_t end) {
  if (end == 0 || end > x.size()) end = x.size();
  const auto fit = fit_sine([&](std::size_t i) { return double{x[i]}; }, begin, end, hz / rate);
  const double rest = std::max(fit.total - fit.explained, 1e-30);
  return {fit.amplitude(), 10 * std::log10(std::max(fit.explained, 1e-30) / rest)};
}

double peak(const std::vector<float>& x) {
  double p = 0;
  for (float v : x) p = std::max(p, static_cast<double>(std::fabs(v)));
  return p;
}

double rms(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * static_cast<double>(v);
  return x.empty() ? 0 : std::sqrt(s / static_cast<double>(x.size()));
}

}  // namespace sy::testing
