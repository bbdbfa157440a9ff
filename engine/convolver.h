#pragma once
// Uniformly partitioned overlap-save convolution through FFTW3 (single precision).
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "engine/audio_view.h"

namespace sy::engine {

// FFTW's planner is not thread-safe (only fftwf_execute is); every plan made or destroyed
// in the engine takes this lock, so renders on several threads can build convolvers.
std::mutex& fftw_planner_mutex();

// Plans are measured (FFTW_MEASURE), about a quarter of a second per process. A process
// that starts often, like the CLI, can keep what FFTW learnt in a wisdom file. Both
// functions are best effort: false means nothing was read or written, and rendering works
// the same, only with that start-up cost. The export writes a temporary file and renames
// it, so a reader never sees half a file, and skips the write when nothing new was learnt.
bool import_fftw_wisdom(const std::string& path);
bool export_fftw_wisdom(const std::string& path);

// Convolves `inputs` channels with a matrix of impulse responses and sums them into
// `outputs` channels: out[o] = sum_i h[o][i] * in[i]. Works in fixed blocks of
// `block` frames with no latency inside the block contract: each process() call takes
// exactly `block` new input frames and returns the matching `block` output frames.
// (Any block size is handled one level up by a FIFO; see the renderer.)
//
// Every input spectrum is computed once per block and shared by all outputs, and each
// output needs one inverse FFT, so a 16 x 2 decoder costs 16 + 2 FFTs per block.
// Hand-written because no Debian package offers a partitioned FFT convolver; FFTW does
// the transforms.
class PartitionedConvolver {
 public:
  PartitionedConvolver(std::size_t block, std::size_t inputs, std::size_t outputs);
  ~PartitionedConvolver();
  PartitionedConvolver(const PartitionedConvolver&) = delete;
  PartitionedConvolver& operator=(const PartitionedConvolver&) = delete;

  // Sets the response from `input` to `output` (may allocate; call before processing).
  // An empty response removes the path.
  void set_filter(std::size_t output, std::size_t input, std::span<const float> response);

  void reset() noexcept;
  // in holds num_inputs() channels, out num_outputs(), each block() frames. They must not
  // alias.
  void process(ConstAudioView in, AudioView out) noexcept;

  std::size_t block() const noexcept { return block_; }
  std::size_t num_inputs() const noexcept { return inputs_; }
  std::size_t num_outputs() const noexcept { return outputs_; }

 private:
  struct FloatDeleter {
    void operator()(float* p) const noexcept;
  };
  using FloatArray = std::unique_ptr<float, FloatDeleter>;
  static FloatArray alloc(std::size_t n);

  struct Path {
    std::size_t partitions = 0;
    FloatArray spectra;  // partitions x {re[stride], im[stride]}, scaled by 1/(2*block)
  };

  void grow_history(std::size_t partitions);
  // time -> spectrum_ -> split re/im (times scale and sign), and split re/im -> spectrum_ ->
  // time_. `time` must be aligned like time_ (fftwf_alloc'd, at a multiple of kAlignFloats).
  void forward(const float* time, float* re, float* im, float scale, const float* sign) noexcept;
  void inverse(const float* re, const float* im) noexcept;

  std::size_t block_, inputs_, outputs_;
  std::size_t bins_, stride_;             // block+1 bins, padded to keep SIMD alignment
  std::size_t history_ = 1;               // input spectra kept per input (max partitions)
  std::size_t head_ = 0;                  // slot of the newest spectrum
  std::vector<Path> paths_;               // outputs x inputs
  FloatArray history_spectra_;            // inputs x history_ x {re, im}
  std::size_t input_stride_ = 0;          // 2*block, padded to keep SIMD alignment
  FloatArray inputs_time_;                // inputs x input_stride_: the last two blocks of each
  bool odd_block_ = false;                // the new block goes into the first half
  FloatArray signs_;                      // bins_ ones, then bins_ of +1, -1, ...
  FloatArray time_;                       // 2*block scratch
  FloatArray acc_;                        // {re, im} accumulator
  FloatArray spectrum_;                   // bins_ interleaved complex: the transforms' side
  void* forward_ = nullptr;               // fftwf_plan
  void* inverse_ = nullptr;
};

}  // namespace sy::engine
