#pragma once
// Fixture files made on the fly (with the ffmpeg command-line tool) and signal measurements
// shared by the io/ tests.
#include <cstddef>
#include <string>
#include <vector>

#include "io/decoder.h"
#include "tests/support/temp_dir.h"

namespace sy::testing {

// Runs `ffmpeg -y -loglevel error <args>`; fails the test (throws) if it does not succeed.
void ffmpeg(const std::string& args);
// ffmpeg `args` with dir/name as the output; returns that path.
std::string ffmpeg_file(const TempDir& dir, const std::string& name, const std::string& args);
void write_text(const std::string& path, const std::string& text);
void write_bytes(const std::string& path, const std::vector<char>& bytes);
std::vector<char> read_bytes(const std::string& path);
void truncate_file(const std::string& path, double keep_fraction);

struct Decoded {
  int sample_rate = 0;
  std::vector<float> left, right;
  io::AudioInfo info;
  std::size_t frames() const { return left.size(); }
};
// Reads the whole file through sy::Decoder in chunks of `chunk` frames.
Decoded decode_all(const std::string& path, const io::DecodeOptions& options = {},
                   std::size_t chunk = 1000);
// A file ffmpeg makes as `name` from `args` in a folder of its own, decoded whole.
Decoded decode_made(const std::string& name, const std::string& args);

// Least-squares fit of a sine of frequency `hz` to x[begin, end): its amplitude and the
// ratio of tone power to everything else, in dB.
struct ToneFit {
  double amplitude = 0;
  double snr_db = 0;
};
ToneFit fit_tone(const std::vector<float>& x, double hz, int rate, std::size_t begin = 0,
                 std::size_t end = 0);
double peak(const std::vector<float>& x);
double rms(const std::vector<float>& x);

}  // namespace sy::testing
