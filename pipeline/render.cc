#include "pipeline/render.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "engine/audio_buffer.h"
#include "engine/loudness.h"
#include "engine/processor.h"
#include "engine/renderer.h"
#include "io/errors.h"
#include "pipeline/block_queue.h"
#include "pipeline/output_file.h"

namespace sy {

std::string stage_name(Stage s) {
  switch (s) {
    case Stage::kOpening: return "opening";
    case Stage::kAnalysing: return "analysing";
    case Stage::kRendering: return "rendering";
    case Stage::kFinishing: return "finishing";
    case Stage::kDone: return "done";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

// How the work splits between the analysis pass and the final pass, for progress only.
constexpr double kAnalysisShare = 0.3;
// Length of the fade that cuts the room's tail at the end of the song.
constexpr double kEndFadeSeconds = 0.03;
// Gain applied to reach the loudness target is clamped to this range (silence stays silence).
constexpr double kMaxGainDb = 30.0;
constexpr double kMinGainDb = -40.0;
// If the analysis pass says the limiter would shave this much or more, measure what it does.
constexpr double kLimiterCheckDb = 3.0;

class ProgressReporter {
 public:
  ProgressReporter(const ProgressFn& fn, int sample_rate) : fn_(fn), rate_(sample_rate), start_(Clock::now()) {}

  void set_total_frames(std::int64_t frames) { total_frames_ = frames; }
  void stage(Stage s, double base, double share) {
    stage_ = s;
    base_ = base;
    share_ = share;
    emit(0, true);
  }
  void update(std::int64_t frames_done, bool force = false) { emit(frames_done, force); }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  void emit(std::int64_t frames_done, bool force) {
    if (!fn_) return;
    auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    Progress p;
    p.stage = stage_;
    const double total = static_cast<double>(std::max<std::int64_t>(total_frames_, 1));
    const double within = std::clamp(static_cast<double>(frames_done) / total, 0.0, 1.0);
    p.fraction = stage_ == Stage::kDone ? 1.0 : std::clamp(base_ + share_ * within, 0.0, 1.0);
    p.seconds_done = static_cast<double>(frames_done) / rate_;
    p.seconds_total = static_cast<double>(total_frames_) / rate_;
    const double wall = elapsed();
    const double audio_equivalent = p.fraction * p.seconds_total;
    p.realtime_factor = wall > 0 ? audio_equivalent / wall : 0;
    p.eta_seconds = p.fraction > 0.01 ? wall * (1 - p.fraction) / p.fraction : -1;
    fn_(p);
  }

  const ProgressFn& fn_;
  int rate_;
  Clock::time_point start_;
  Clock::time_point last_{};
  std::int64_t total_frames_ = 0;
  Stage stage_ = Stage::kOpening;
  double base_ = 0, share_ = 1;
};

void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) throw Cancelled();
}

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }

// The processing chain of one pass: renderer, then (final pass) gain and limiter.
struct Chain {
  std::unique_ptr<StereoProcessor> renderer;
  std::unique_ptr<StereoProcessor> limiter;  // null in the analysis pass or without normalisation
  float gain = 1.0f;

  std::size_t latency() const {
    return renderer->latency() + (limiter ? limiter->latency() : 0);
  }
  void process(AudioBuffer& buf, std::size_t frames) noexcept {
    renderer->process(buf.planes(), buf.planes(), frames);
    if (gain != 1.0f)
      for (std::size_t c = 0; c < 2; ++c)
        for (std::size_t i = 0; i < frames; ++i) buf.channel(c)[i] *= gain;
    if (limiter) limiter->process(buf.planes(), buf.planes(), frames);
  }
};

std::unique_ptr<StereoProcessor> make_stage(const RenderOptions& o) {
  if (o.gain_only) return std::make_unique<GainProcessor>(1.0f);
  return make_renderer(o.engine, o.sofa_path.empty() ? std::string(kDefaultSofaPath) : o.sofa_path);
}

bool room_on(const RenderOptions& o) { return !o.gain_only && o.engine.reverb > 0; }

// Runs one pass over the input: decode, process in fixed blocks, drop the chain's latency
// from the front, flush it (and the tail if asked) at the end, and hand the aligned output
// to `sink(planes, offset, frames)`. Returns the number of input frames.
template <typename Sink>
std::int64_t run_pass(Decoder& decoder, Chain& chain, const RenderOptions& o, std::size_t extra_tail,
                      ProgressReporter& progress, const std::atomic<bool>* cancel, Sink&& sink) {
  const std::size_t block = o.block_frames;
  AudioBuffer buf(2, block);
  std::size_t to_skip = chain.latency();
  std::int64_t out_pos = 0;
  std::int64_t in_frames = 0;

  auto emit = [&](std::size_t frames) {
    std::size_t offset = 0;
    if (to_skip > 0) {
      offset = std::min(to_skip, frames);
      to_skip -= offset;
    }
    if (offset < frames) {
      const float* planes[2] = {buf.channel(0) + offset, buf.channel(1) + offset};
      sink(planes, out_pos, frames - offset);
      out_pos += static_cast<std::int64_t>(frames - offset);
    }
  };

  for (;;) {
    check_cancel(cancel);
    std::size_t n = decoder.read(buf.planes(), block);
    if (n == 0) break;
    in_frames += static_cast<std::int64_t>(n);
    chain.process(buf, n);
    emit(n);
    progress.update(in_frames);
  }
  // Flush: silence pushes the delayed samples (and optionally the tail) out.
  const std::int64_t wanted = in_frames + static_cast<std::int64_t>(extra_tail);
  while (out_pos < wanted) {
    check_cancel(cancel);
    const std::size_t skip_left = to_skip;
    const std::size_t n = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(block), wanted - out_pos + static_cast<std::int64_t>(skip_left)));
    buf.clear();
    chain.process(buf, n);
    emit(n);
  }
  return in_frames;
}

// Holds back the last few frames so the end of the output can be faded out.
class EndFader {
 public:
  EndFader(std::size_t frames) : hold_(2, std::max<std::size_t>(frames, 1)), size_(frames) {}

  template <typename Out>
  void push(const float* const* planes, std::size_t frames, Out&& out) {
    if (size_ == 0) {
      out(planes, frames);
      return;
    }
    // Everything older than the newest size_ frames can go out.
    std::size_t total = held_ + frames;
    if (total > size_) {
      std::size_t release = total - size_;
      std::size_t from_held = std::min(release, held_);
      if (from_held > 0) {
        const float* hp[2] = {hold_.channel(0), hold_.channel(1)};
        out(hp, from_held);
        for (std::size_t c = 0; c < 2; ++c)
          std::copy(hold_.channel(c) + from_held, hold_.channel(c) + held_, hold_.channel(c));
        held_ -= from_held;
      }
      std::size_t from_new = release - from_held;
      if (from_new > 0) {
        out(planes, from_new);
      }
      for (std::size_t c = 0; c < 2; ++c)
        std::copy(planes[c] + from_new, planes[c] + frames, hold_.channel(c) + held_);
      held_ += frames - from_new;
    } else {
      for (std::size_t c = 0; c < 2; ++c) std::copy(planes[c], planes[c] + frames, hold_.channel(c) + held_);
      held_ += frames;
    }
  }

  template <typename Out>
  void finish(Out&& out) {
    if (size_ == 0 || held_ == 0) return;
    for (std::size_t i = 0; i < held_; ++i) {
      // Raised-cosine fade to zero over the held frames.
      const double x = static_cast<double>(i + 1) / static_cast<double>(held_);
      const float g = static_cast<float>(0.5 * (1.0 + std::cos(M_PI * x)));
      hold_.channel(0)[i] *= g;
      hold_.channel(1)[i] *= g;
    }
    const float* hp[2] = {hold_.channel(0), hold_.channel(1)};
    out(hp, held_);
    held_ = 0;
  }

 private:
  AudioBuffer hold_;
  std::size_t size_;
  std::size_t held_ = 0;
};

Metadata output_metadata(const AudioInfo& info, const std::string& input) {
  Metadata m = info.metadata;
  std::string title;
  if (auto it = m.tags.find("title"); it != m.tags.end() && !it->second.empty()) title = it->second;
  if (title.empty()) title = std::filesystem::path(input).stem().string();
  m.tags["title"] = title + " (8D)";
  return m;
}

}  // namespace

RenderResult render_file(const std::string& input, const std::string& output, const RenderOptions& options,
                         const ProgressFn& progress_fn, const std::atomic<bool>* cancel) {
  const auto started = Clock::now();
  if (options.block_frames == 0) throw UsageError("block size must be positive");
  DecodeOptions dopts;
  dopts.limits = options.limits;
  dopts.speed = options.gain_only ? 1.0 : options.engine.speed;

  auto decoder = Decoder::open(input, dopts);
  const int rate = decoder->output_sample_rate();
  ProgressReporter progress(progress_fn, rate);
  progress.set_total_frames(decoder->estimated_frames());
  progress.stage(Stage::kOpening, 0, 0);

  // Refuse an existing output before doing any work; the temp file lives beside it.
  OutputFile out_file(output, options.overwrite);

  RenderResult result;
  result.sample_rate = rate;

  Chain chain;
  chain.renderer = make_stage(options);
  chain.renderer->prepare(rate, options.block_frames);
  const std::size_t tail = options.keep_tail ? chain.renderer->tail() : 0;

  double gain_db = 0;
  std::int64_t input_frames = -1;
  const bool normalize = options.normalize;
  if (normalize) {
    // Pass 1: loudness of the rendered mix (nothing is written).
    progress.stage(Stage::kAnalysing, 0, kAnalysisShare);
    LoudnessMeter meter(rate);
    float peak = 0;
    input_frames = run_pass(*decoder, chain, options, tail, progress, cancel,
                            [&](const float* const* p, std::int64_t, std::size_t n) {
                              meter.add(p, n);
                              for (std::size_t c = 0; c < 2; ++c)
                                for (std::size_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(p[c][i]));
                            });
    progress.set_total_frames(input_frames);
    const double lufs = meter.integrated_lufs();
    result.input_lufs = lufs;
    if (std::isfinite(lufs)) gain_db = std::clamp(options.engine.loudness_lufs - lufs, kMinGainDb, kMaxGainDb);

    // A loud target on a peaky mix: the limiter will pull the loudness down. Measure by how
    // much with one more analysis pass and make up for it.
    const double peak_db = peak > 0 ? 20 * std::log10(peak) : -200;
    if (std::isfinite(lufs) && peak_db + gain_db > options.engine.true_peak_dbtp + kLimiterCheckDb) {
      decoder = Decoder::open(input, dopts);
      chain.renderer->reset();
      chain.limiter = make_true_peak_limiter(options.engine.true_peak_dbtp);
      chain.limiter->prepare(rate, options.block_frames);
      chain.gain = static_cast<float>(db_to_gain(gain_db));
      LoudnessMeter check(rate);
      run_pass(*decoder, chain, options, tail, progress, cancel,
               [&](const float* const* p, std::int64_t, std::size_t n) { check.add(p, n); });
      const double limited = check.integrated_lufs();
      if (std::isfinite(limited))
        gain_db = std::clamp(gain_db + (options.engine.loudness_lufs - limited), kMinGainDb, kMaxGainDb);
    }
    decoder = Decoder::open(input, dopts);
    chain.renderer->reset();
    chain.limiter = make_true_peak_limiter(options.engine.true_peak_dbtp);
    chain.limiter->prepare(rate, options.block_frames);
    chain.gain = static_cast<float>(db_to_gain(gain_db));
  }
  result.output_gain_db = gain_db;

  // Final pass: DSP on a producer thread, encoding on this one.
  progress.stage(Stage::kRendering, normalize ? kAnalysisShare : 0, normalize ? 1 - kAnalysisShare : 1);
  EncodeOptions eopts = options.encode;
  eopts.sample_rate = rate;
  auto encoder = Encoder::open(out_file.temp_path(), eopts, output_metadata(decoder->info(), input));

  const std::size_t fade = (room_on(options) && !options.keep_tail)
                               ? static_cast<std::size_t>(kEndFadeSeconds * rate)
                               : 0;
  BlockQueue queue(8, options.block_frames);
  std::exception_ptr producer_error;
  std::thread producer([&] {
    try {
      EndFader fader(fade);
      // Copies aligned output into queue blocks (a sink call may span blocks).
      BlockQueue::Block* cur = nullptr;
      auto put = [&](const float* const* p, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
          if (cur == nullptr) {
            cur = queue.acquire();
            if (cur == nullptr) throw Cancelled();
            cur->frames = 0;
          }
          const std::size_t room = cur->audio.num_frames() - cur->frames;
          const std::size_t k = std::min(room, n - done);
          for (std::size_t c = 0; c < 2; ++c)
            std::copy(p[c] + done, p[c] + done + k, cur->audio.channel(c) + cur->frames);
          cur->frames += k;
          done += k;
          if (cur->frames == cur->audio.num_frames()) {
            queue.push(cur);
            cur = nullptr;
          }
        }
      };
      run_pass(*decoder, chain, options, tail, progress, cancel,
               [&](const float* const* p, std::int64_t, std::size_t n) { fader.push(p, n, put); });
      fader.finish(put);
      if (cur != nullptr && cur->frames > 0) queue.push(cur);
      queue.finish();
    } catch (...) {
      producer_error = std::current_exception();
      queue.close();
    }
  });

  std::exception_ptr consumer_error;
  try {
    while (BlockQueue::Block* b = queue.pop()) {
      encoder->write(b->audio.planes(), b->frames);
      result.frames += static_cast<std::int64_t>(b->frames);
      queue.release(b);
    }
  } catch (...) {
    consumer_error = std::current_exception();
    queue.close();
  }
  producer.join();
  if (producer_error) std::rethrow_exception(producer_error);
  if (consumer_error) std::rethrow_exception(consumer_error);
  check_cancel(cancel);

  progress.stage(Stage::kFinishing, 1, 0);
  encoder->finish();
  encoder.reset();
  out_file.commit();

  std::error_code ec;
  result.bytes = static_cast<std::int64_t>(std::filesystem::file_size(output, ec));
  result.duration_seconds = static_cast<double>(result.frames) / rate;
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  progress.stage(Stage::kDone, 1, 0);
  return result;
}

}  // namespace sy
