#include "engine/hrtf.h"

#include <mysofa.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

namespace sy::engine {

namespace {

constexpr float kCheckRate = 44100.0f;

struct Opened {
  MYSOFA_EASY* easy = nullptr;
  int length = 0;
};

Opened open_set(const std::string& sofa_path, float sample_rate) {
  Opened o;
  int err = 0;
  o.easy = mysofa_open(sofa_path.c_str(), sample_rate, &o.length, &err);
  if (o.easy == nullptr || err != MYSOFA_OK || o.length <= 0) {
    if (o.easy != nullptr) mysofa_close(o.easy);
    throw std::runtime_error("cannot load the HRTF set (libmysofa error " + std::to_string(err) + ") (" +
                             sofa_path + ")");
  }
  return o;
}

// Files that passed check(), and the set the last check opened, waiting for its HrtfSet.
struct CheckState {
  std::mutex mutex;
  std::set<std::string> valid;
  std::string kept_path;
  Opened kept;
  ~CheckState() {
    if (kept.easy != nullptr) mysofa_close(kept.easy);
  }
};

CheckState& check_state() {
  static CheckState state;
  return state;
}

}  // namespace

HrtfSet::HrtfSet(const std::string& sofa_path, double sample_rate) : sample_rate_(sample_rate) {
  Opened o;
  if (static_cast<float>(sample_rate) == kCheckRate) {
    CheckState& st = check_state();
    const std::lock_guard<std::mutex> lock(st.mutex);
    if (st.kept.easy != nullptr && st.kept_path == sofa_path) {
      o = st.kept;
      st.kept = Opened{};
      st.kept_path.clear();
    }
  }
  if (o.easy == nullptr) o = open_set(sofa_path, static_cast<float>(sample_rate));
  easy_ = o.easy;
  length_ = static_cast<std::size_t>(o.length);
}

void HrtfSet::check(const std::string& sofa_path) {
  CheckState& st = check_state();
  const std::lock_guard<std::mutex> lock(st.mutex);
  if (st.valid.count(sofa_path) != 0) return;
  Opened o = open_set(sofa_path, kCheckRate);
  if (st.kept.easy != nullptr) mysofa_close(st.kept.easy);
  st.kept = o;
  st.kept_path = sofa_path;
  st.valid.insert(sofa_path);
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

}  // namespace sy::engine
