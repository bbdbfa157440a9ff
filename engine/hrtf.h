#pragma once
// A measured set of head-related impulse responses, read through libmysofa.
#include <cstddef>
#include <string>

struct MYSOFA_EASY;

namespace sy::engine {

// Loads a SOFA file and resamples it to `sample_rate` (libmysofa does both, and its
// default loudness normalisation). Directions follow SOFA: azimuth counter-clockwise from
// the front (90 = left), elevation up from the horizontal plane, both in degrees.
class HrtfSet {
 public:
  // Throws std::runtime_error naming the file when it cannot be read.
  HrtfSet(const std::string& sofa_path, double sample_rate);
  ~HrtfSet();
  HrtfSet(const HrtfSet&) = delete;
  HrtfSet& operator=(const HrtfSet&) = delete;

  // Reads and validates the file; throws like the constructor. A file that passed once is
  // not read again in this process. The check opens the set at 44.1 kHz (the KEMAR set's own
  // rate, so nothing is resampled) and keeps it for the next HrtfSet of that file and rate,
  // so checking and then loading a 44.1 kHz song reads the file once, not twice.
  static void check(const std::string& sofa_path);

  std::size_t length() const noexcept { return length_; }
  double sample_rate() const noexcept { return sample_rate_; }

  // Writes length() samples per ear: the response interpolated by libmysofa between the
  // nearest measured directions, with any separately stored delay applied.
  void response(double azimuth_deg, double elevation_deg, float* left, float* right);

 private:
  MYSOFA_EASY* easy_ = nullptr;
  std::size_t length_ = 0;
  double sample_rate_;
};

}  // namespace sy::engine
