#include "engine/convolver.h"

#include <fftw3.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <new>
#include <stdexcept>

namespace sy::engine {

namespace {
constexpr std::size_t kAlignFloats = 16;  // 64 bytes: every spectrum starts SIMD-aligned
fftwf_plan as_plan(void* p) { return static_cast<fftwf_plan>(p); }
}  // namespace

std::mutex& fftw_planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

namespace {
// The wisdom as imported, to tell whether an export would add anything.
std::string& imported_wisdom() {
  static std::string text;
  return text;
}

std::string current_wisdom() {
  char* text = fftwf_export_wisdom_to_string();
  if (text == nullptr) return {};
  std::string copy(text);
  std::free(text);
  return copy;
}
}  // namespace

bool import_fftw_wisdom(const std::string& path) {
  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (fftwf_import_wisdom_from_filename(path.c_str()) == 0) return false;
  imported_wisdom() = current_wisdom();
  return true;
}

bool export_fftw_wisdom(const std::string& path) {
  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  const std::string now = current_wisdom();
  if (now.empty() || now == imported_wisdom()) return false;
  // Another process may have saved plans since this one read the file: keep them too.
  fftwf_import_wisdom_from_filename(path.c_str());
  std::error_code ec;
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), ec);
  // A fresh, exclusive temporary name (no clash between hosts sharing the folder, no
  // planted symlink followed), renamed over the target so readers never see half a file.
  std::string temp = path + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return false;
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    ::close(fd);
    ::unlink(temp.c_str());
    return false;
  }
  fftwf_export_wisdom_to_file(f);
  bool ok = std::fflush(f) == 0 && std::ferror(f) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    return false;
  }
  imported_wisdom() = current_wisdom();
  return true;
}

void PartitionedConvolver::FloatDeleter::operator()(float* p) const noexcept { fftwf_free(p); }

PartitionedConvolver::FloatArray PartitionedConvolver::alloc(std::size_t n) {
  auto* p = fftwf_alloc_real(std::max<std::size_t>(n, 1));
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, std::max<std::size_t>(n, 1) * sizeof(float));
  return FloatArray(p);
}

PartitionedConvolver::PartitionedConvolver(std::size_t block, std::size_t inputs, std::size_t outputs)
    : block_(block), inputs_(inputs), outputs_(outputs), bins_(block + 1),
      stride_((block + 1 + kAlignFloats - 1) / kAlignFloats * kAlignFloats),
      paths_(inputs * outputs) {
  if (block == 0 || inputs == 0 || outputs == 0)
    throw std::invalid_argument("convolver needs a block size, inputs and outputs");
  history_spectra_ = alloc(inputs_ * history_ * 2 * stride_);
  previous_ = alloc(inputs_ * block_);
  time_ = alloc(2 * block_);
  acc_ = alloc(2 * stride_);
  spectrum_ = alloc(2 * bins_);

  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  const int n = static_cast<int>(2 * block_);
  auto* spectrum = reinterpret_cast<fftwf_complex*>(spectrum_.get());
  forward_ = fftwf_plan_dft_r2c_1d(n, time_.get(), spectrum, FFTW_MEASURE);
  inverse_ = fftwf_plan_dft_c2r_1d(n, spectrum, time_.get(), FFTW_MEASURE);
  if (forward_ == nullptr || inverse_ == nullptr) throw std::runtime_error("FFTW could not plan");
  std::memset(time_.get(), 0, 2 * block_ * sizeof(float));
  std::memset(acc_.get(), 0, 2 * stride_ * sizeof(float));
  std::memset(spectrum_.get(), 0, 2 * bins_ * sizeof(float));
}

// FFTW's interleaved real transforms run about 1.5 times as fast as its split-array ones
// (which copy through a buffer); the products below want split arrays, which whole SIMD
// lanes fill. So each transform goes through spectrum_ and is (de)interleaved here.
void PartitionedConvolver::forward(float* re, float* im, float scale) noexcept {
  fftwf_execute(as_plan(forward_));
  const float* c = spectrum_.get();
  for (std::size_t k = 0; k < bins_; ++k) {
    re[k] = scale * c[2 * k];
    im[k] = scale * c[2 * k + 1];
  }
}

void PartitionedConvolver::inverse(const float* re, const float* im) noexcept {
  float* c = spectrum_.get();
  for (std::size_t k = 0; k < bins_; ++k) {
    c[2 * k] = re[k];
    c[2 * k + 1] = im[k];
  }
  fftwf_execute(as_plan(inverse_));
}

PartitionedConvolver::~PartitionedConvolver() {
  const std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  if (forward_ != nullptr) fftwf_destroy_plan(as_plan(forward_));
  if (inverse_ != nullptr) fftwf_destroy_plan(as_plan(inverse_));
}

void PartitionedConvolver::grow_history(std::size_t partitions) {
  if (partitions <= history_) return;
  history_ = partitions;
  history_spectra_ = alloc(inputs_ * history_ * 2 * stride_);
  reset();
}

void PartitionedConvolver::set_filter(std::size_t output, std::size_t input,
                                      std::span<const float> response) {
  if (output >= outputs_ || input >= inputs_) throw std::out_of_range("convolver path");
  Path& path = paths_[output * inputs_ + input];
  path.partitions = (response.size() + block_ - 1) / block_;
  path.spectra = alloc(path.partitions * 2 * stride_);
  grow_history(path.partitions);
  const float scale = 1.0f / static_cast<float>(2 * block_);
  for (std::size_t p = 0; p < path.partitions; ++p) {
    std::memset(time_.get(), 0, 2 * block_ * sizeof(float));
    const std::size_t begin = p * block_;
    const std::size_t count = std::min(block_, response.size() - begin);
    std::copy_n(response.data() + begin, count, time_.get());
    float* re = path.spectra.get() + p * 2 * stride_;
    forward(re, re + stride_, scale);
  }
  std::memset(time_.get(), 0, 2 * block_ * sizeof(float));
}

void PartitionedConvolver::reset() noexcept {
  std::memset(history_spectra_.get(), 0, inputs_ * history_ * 2 * stride_ * sizeof(float));
  std::memset(previous_.get(), 0, inputs_ * block_ * sizeof(float));
  head_ = 0;
}

void PartitionedConvolver::process(ConstAudioView in, AudioView out) noexcept {
  head_ = (head_ + 1) % history_;
  float* const time = time_.get();
  for (std::size_t i = 0; i < inputs_; ++i) {
    float* previous = previous_.get() + i * block_;
    std::memcpy(time, previous, block_ * sizeof(float));
    std::memcpy(time + block_, in.channel(i), block_ * sizeof(float));
    std::memcpy(previous, in.channel(i), block_ * sizeof(float));
    float* re = history_spectra_.get() + (i * history_ + head_) * 2 * stride_;
    forward(re, re + stride_, 1.0f);
  }

  float* const acc_re = acc_.get();
  float* const acc_im = acc_.get() + stride_;
  const std::size_t bins = stride_;  // the padding is zero: whole SIMD-friendly lanes
  for (std::size_t o = 0; o < outputs_; ++o) {
    std::memset(acc_re, 0, 2 * stride_ * sizeof(float));
    bool any = false;
    for (std::size_t i = 0; i < inputs_; ++i) {
      const Path& path = paths_[o * inputs_ + i];
      for (std::size_t p = 0; p < path.partitions; ++p) {
        const std::size_t slot = (head_ + history_ - p) % history_;
        const float* xr = history_spectra_.get() + (i * history_ + slot) * 2 * stride_;
        const float* xi = xr + stride_;
        const float* hr = path.spectra.get() + p * 2 * stride_;
        const float* hi = hr + stride_;
        for (std::size_t k = 0; k < bins; ++k) {
          acc_re[k] += xr[k] * hr[k] - xi[k] * hi[k];
          acc_im[k] += xr[k] * hi[k] + xi[k] * hr[k];
        }
        any = true;
      }
    }
    if (!any) {
      std::memset(out.channel(o), 0, block_ * sizeof(float));
      continue;
    }
    inverse(acc_re, acc_im);
    std::memcpy(out.channel(o), time + block_, block_ * sizeof(float));
  }
}

}  // namespace sy::engine
