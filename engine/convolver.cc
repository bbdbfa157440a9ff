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

#include "engine/vector_clones.h"

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
  input_stride_ = (2 * block_ + kAlignFloats - 1) / kAlignFloats * kAlignFloats;
  inputs_time_ = alloc(inputs_ * input_stride_);
  time_ = alloc(2 * block_);
  // Ones, then +1, -1, +1, ...: what the spectrum of each input's buffer is multiplied by
  // when the new block sits in its second half or its first (see process).
  signs_ = alloc(2 * bins_);
  for (std::size_t k = 0; k < bins_; ++k) {
    signs_.get()[k] = 1.0f;
    signs_.get()[bins_ + k] = k % 2 == 0 ? 1.0f : -1.0f;
  }
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

namespace {
// Spectrum (interleaved complex) -> split re and im, times scale and a per-bin sign.
SY_VECTOR_CLONES void deinterleave(const float* __restrict c, float scale, const float* __restrict sign,
                                   float* __restrict re, float* __restrict im, std::size_t bins) noexcept {
  for (std::size_t k = 0; k < bins; ++k) {
    re[k] = scale * sign[k] * c[2 * k];
    im[k] = scale * sign[k] * c[2 * k + 1];
  }
}

SY_VECTOR_CLONES void interleave(const float* __restrict re, const float* __restrict im, float* __restrict c,
                                 std::size_t bins) noexcept {
  for (std::size_t k = 0; k < bins; ++k) {
    c[2 * k] = re[k];
    c[2 * k + 1] = im[k];
  }
}

// acc += x * h over `bins` complex values in split form.
SY_VECTOR_CLONES void multiply_accumulate(const float* __restrict xr, const float* __restrict xi,
                                          const float* __restrict hr, const float* __restrict hi,
                                          float* __restrict acc_re, float* __restrict acc_im, std::size_t bins) noexcept {
  for (std::size_t k = 0; k < bins; ++k) {
    acc_re[k] += xr[k] * hr[k] - xi[k] * hi[k];
    acc_im[k] += xr[k] * hi[k] + xi[k] * hr[k];
  }
}
// acc = x * h: the first product of a sum, so the accumulator needs no clearing.
SY_VECTOR_CLONES void multiply(const float* __restrict xr, const float* __restrict xi, const float* __restrict hr,
                               const float* __restrict hi, float* __restrict acc_re, float* __restrict acc_im,
                               std::size_t bins) noexcept {
  for (std::size_t k = 0; k < bins; ++k) {
    acc_re[k] = xr[k] * hr[k] - xi[k] * hi[k];
    acc_im[k] = xr[k] * hi[k] + xi[k] * hr[k];
  }
}
}  // namespace

// FFTW's interleaved real transforms run about 1.5 times as fast as its split-array ones
// (which copy through a buffer); the products below want split arrays, which whole SIMD
// lanes fill. So each transform goes through spectrum_ and is (de)interleaved here.
void PartitionedConvolver::forward(const float* time, float* re, float* im, float scale, const float* sign) noexcept {
  fftwf_execute_dft_r2c(as_plan(forward_), const_cast<float*>(time),  // r2c leaves its input as it is
                        reinterpret_cast<fftwf_complex*>(spectrum_.get()));
  deinterleave(spectrum_.get(), scale, sign, re, im, bins_);
}

void PartitionedConvolver::inverse(const float* re, const float* im) noexcept {
  interleave(re, im, spectrum_.get(), bins_);
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
    forward(time_.get(), re, re + stride_, scale, signs_.get());
  }
  std::memset(time_.get(), 0, 2 * block_ * sizeof(float));
}

void PartitionedConvolver::reset() noexcept {
  std::memset(history_spectra_.get(), 0, inputs_ * history_ * 2 * stride_ * sizeof(float));
  std::memset(inputs_time_.get(), 0, inputs_ * input_stride_ * sizeof(float));
  head_ = 0;
  odd_block_ = false;
}

void PartitionedConvolver::process(ConstAudioView in, AudioView out) noexcept {
  head_ = (head_ + 1) % history_;
  // Overlap-save transforms [previous block | new block]. Each input's buffer holds the two
  // blocks and the new one overwrites the older half, so every other block the buffer is
  // [new | previous]: the wanted frame turned by half its length, whose spectrum is the
  // wanted one times (-1)^k. One copy per input instead of three.
  const bool new_first = odd_block_;
  odd_block_ = !odd_block_;
  const float* sign = signs_.get() + (new_first ? bins_ : 0);
  for (std::size_t i = 0; i < inputs_; ++i) {
    float* time = inputs_time_.get() + i * input_stride_;
    std::memcpy(time + (new_first ? 0 : block_), in.channel(i), block_ * sizeof(float));
    float* re = history_spectra_.get() + (i * history_ + head_) * 2 * stride_;
    forward(time, re, re + stride_, 1.0f, sign);
  }

  float* const acc_re = acc_.get();
  float* const acc_im = acc_.get() + stride_;
  const std::size_t bins = stride_;  // the padding is zero: whole SIMD-friendly lanes
  for (std::size_t o = 0; o < outputs_; ++o) {
    bool any = false;
    for (std::size_t i = 0; i < inputs_; ++i) {
      const Path& path = paths_[o * inputs_ + i];
      for (std::size_t p = 0; p < path.partitions; ++p) {
        const std::size_t slot = (head_ + history_ - p) % history_;
        const float* xr = history_spectra_.get() + (i * history_ + slot) * 2 * stride_;
        const float* hr = path.spectra.get() + p * 2 * stride_;
        if (any)
          multiply_accumulate(xr, xr + stride_, hr, hr + stride_, acc_re, acc_im, bins);
        else
          multiply(xr, xr + stride_, hr, hr + stride_, acc_re, acc_im, bins);
        any = true;
      }
    }
    if (!any) {
      std::memset(out.channel(o), 0, block_ * sizeof(float));
      continue;
    }
    inverse(acc_re, acc_im);
    std::memcpy(out.channel(o), time_.get() + block_, block_ * sizeof(float));
  }
}

}  // namespace sy::engine
