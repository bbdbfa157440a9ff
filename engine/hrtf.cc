#include "engine/hrtf.h"

#include <mysofa.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

namespace sy {

HrtfSet::HrtfSet(const std::string& sofa_path, double sample_rate) : sample_rate_(sample_rate) {
  int filter_length = 0;
  int err = 0;
  easy_ = mysofa_open(sofa_path.c_str(), static_cast<float>(sample_rate), &filter_length, &err);
  if (easy_ == nullptr || err != MYSOFA_OK || filter_length <= 0) {
    if (easy_ != nullptr) mysofa_close(easy_);
    throw std::runtime_error("cannot load the HRTF set (libmysofa error " + std::to_string(err) +
                             ") (" + sofa_path + ")");
  }
  length_ = static_cast<std::size_t>(filter_length);
}

void HrtfSet::check(const std::string& sofa_path) {
  int err = 0;
  MYSOFA_HRTF* hrtf = mysofa_load(sofa_path.c_str(), &err);
  if (hrtf != nullptr && err == MYSOFA_OK) err = mysofa_check(hrtf);
  if (hrtf != nullptr) mysofa_free(hrtf);
  if (hrtf == nullptr || err != MYSOFA_OK)
    throw std::runtime_error("cannot load the HRTF set (libmysofa error " + std::to_string(err) + ") (" +
                             sofa_path + ")");
}

HrtfSet::~HrtfSet() {
  if (easy_ != nullptr) mysofa_close(easy_);
}

void HrtfSet::response(double azimuth_deg, double elevation_deg, float* left, float* right) {
  const double az = azimuth_deg * std::numbers::pi / 180.0;
  const double el = elevation_deg * std::numbers::pi / 180.0;
  const auto x = static_cast<float>(std::cos(el) * std::cos(az));
  const auto y = static_cast<float>(std::cos(el) * std::sin(az));
  const auto z = static_cast<float>(std::sin(el));
  float delay_left = 0;
  float delay_right = 0;
  mysofa_getfilter_float(easy_, x, y, z, left, right, &delay_left, &delay_right);
  // Some SOFA files keep the time of arrival apart from the responses: put it back.
  auto apply_delay = [this](float* ir, float seconds) {
    const auto shift = static_cast<std::size_t>(std::lround(std::max(0.0, double{seconds}) * sample_rate_));
    if (shift == 0) return;
    const std::size_t keep = shift < length_ ? length_ - shift : 0;
    std::copy_backward(ir, ir + keep, ir + length_);
    std::fill(ir, ir + std::min(shift, length_), 0.0f);
  };
  apply_delay(left, delay_left);
  apply_delay(right, delay_right);
}

}  // namespace sy
