#include "pipeline/excerpt.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

#include "base/errors.h"
#include "engine/loudness.h"

namespace sy::pipeline {
namespace {

constexpr double kStepSeconds = 0.1;  // libebur128's momentary loudness moves in 100 ms steps

double fade_gain(std::size_t i, std::size_t frames) {
  const double x = static_cast<double>(i) / static_cast<double>(frames);
  return 0.5 * (1.0 - std::cos(M_PI * x));  // raised cosine, 0 -> 1
}

}  // namespace

double parse_time(const std::string& text, const std::string& what) {
  auto refuse = [&] {
    throw std::invalid_argument(what + " must be seconds or m:ss, e.g. 90 or 1:30 (got '" + text + "')");
  };
  if (text.empty()) refuse();
  double total = 0;
  std::size_t begin = 0;
  int fields = 0;
  for (;;) {
    const std::size_t colon = text.find(':', begin);
    const std::string field = text.substr(begin, colon == std::string::npos ? std::string::npos : colon - begin);
    const bool last = colon == std::string::npos;
    if (field.empty() || field.find_first_not_of(last ? "0123456789." : "0123456789") != std::string::npos)
      refuse();
    double value = 0;
    try {
      std::size_t used = 0;
      value = std::stod(field, &used);
      if (used != field.size()) refuse();
    } catch (const std::logic_error&) {
      refuse();
    }
    // Minutes and seconds after the first field count up to 59.
    if (fields > 0 && value >= 60) refuse();
    total = total * 60 + value;
    if (++fields > 3) refuse();
    if (last) break;
    begin = colon + 1;
  }
  if (!std::isfinite(total)) refuse();
  return total;
}

LoudestWindow::LoudestWindow(int sample_rate, double seconds)
    : rate_(sample_rate),
      seconds_(seconds),
      step_(std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(kStepSeconds * sample_rate)))),
      meter_(sample_rate),
      ring_(std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(seconds / kStepSeconds))), 0.0) {}

void LoudestWindow::add(engine::ConstAudioView audio) {
  const std::size_t frames = audio.num_frames();
  frames_ += static_cast<std::int64_t>(frames);
  for (std::size_t done = 0; done < frames;) {
    const std::size_t n = std::min(step_ - in_step_, frames - done);
    meter_.add(audio.slice(done, n));
    done += n;
    in_step_ += n;
    if (in_step_ < step_) break;
    in_step_ = 0;
    const double lufs = meter_.momentary_lufs();
    const double power = std::isfinite(lufs) ? std::pow(10.0, lufs / 10) : 0;
    double& slot = ring_[steps_ % ring_.size()];
    sum_ += power - slot;
    slot = power;
    ++steps_;
    if (steps_ >= ring_.size() && sum_ > best_) {
      best_ = sum_;
      best_end_ = steps_;
    }
  }
}

double LoudestWindow::start_seconds() const {
  const double length = static_cast<double>(frames_) / rate_;
  if (length <= seconds_ || best_ < 0) return 0;
  // Each momentary value looks back 400 ms, so the window's sound starts that much earlier
  // than its first step ends; the middle of that is the fairest start.
  const double start = static_cast<double>(best_end_ - ring_.size()) * kStepSeconds - 0.15;
  return std::clamp(start, 0.0, length - seconds_);
}

double find_loudest_start(const std::string& input, double seconds, const io::InputLimits& limits,
                          const std::atomic<bool>* cancel) {
  io::DecodeOptions options;
  options.limits = limits;
  auto decoder = io::Decoder::open(input, options);
  LoudestWindow loudest(decoder->output_sample_rate(), seconds);
  constexpr std::size_t kBlock = 8192;
  engine::AudioBuffer buffer(2, kBlock);
  for (;;) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) throw base::Cancelled();
    const std::size_t n = decoder->read(buffer.planes(), kBlock);
    if (n == 0) break;
    loudest.add(std::as_const(buffer).view().first(n));
  }
  return loudest.start_seconds();
}

ExcerptReader::ExcerptReader(io::Decoder& decoder, std::int64_t start_frames, std::int64_t length_frames,
                             std::size_t fade_frames, std::size_t block_frames)
    : decoder_(decoder),
      to_skip_(std::max<std::int64_t>(start_frames, 0)),
      length_(length_frames),
      fade_in_(start_frames > 0 ? fade_frames : 0),
      fade_out_(length_frames >= 0 ? fade_frames : 0),
      scratch_(2, std::max<std::size_t>(block_frames, 1)) {
  if (length_ >= 0) {
    // A short excerpt: the fades share it rather than overlap.
    const auto half = static_cast<std::size_t>(length_ / 2);
    fade_in_ = std::min(fade_in_, half);
    fade_out_ = std::min(fade_out_, half);
  }
}

std::size_t ExcerptReader::read(float* const* dst, std::size_t max_frames) {
  while (to_skip_ > 0) {
    const auto n = decoder_.read(scratch_.planes(),
                                 static_cast<std::size_t>(std::min<std::int64_t>(to_skip_, scratch_.num_frames())));
    if (n == 0) return 0;  // the song ends before the excerpt starts
    to_skip_ -= static_cast<std::int64_t>(n);
  }
  if (length_ >= 0) max_frames = static_cast<std::size_t>(std::min<std::int64_t>(
                        static_cast<std::int64_t>(max_frames), length_ - position_));
  if (max_frames == 0) return 0;
  const std::size_t n = decoder_.read(dst, max_frames);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t at = position_ + static_cast<std::int64_t>(i);
    double gain = 1;
    if (at < static_cast<std::int64_t>(fade_in_)) gain = fade_gain(static_cast<std::size_t>(at), fade_in_);
    if (fade_out_ > 0 && at >= length_ - static_cast<std::int64_t>(fade_out_))
      gain *= fade_gain(static_cast<std::size_t>(length_ - 1 - at), fade_out_);
    if (gain != 1) {
      dst[0][i] *= static_cast<float>(gain);
      dst[1][i] *= static_cast<float>(gain);
    }
  }
  position_ += static_cast<std::int64_t>(n);
  return n;
}

}  // namespace sy::pipeline
