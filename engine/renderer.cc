// The 8D chain: the bass below the crossover stays centred; the rest is encoded as two
// moving sources into 3rd-order ambisonics and decoded binaurally with fixed filters
// folded from the HRTF set; an optional room adds reflections of the rotating signal.
#include "engine/renderer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "engine/audio_buffer.h"
#include "engine/binaural_decoder.h"
#include "engine/binaural_design.h"
#include "engine/centre_split.h"
#include "engine/crossover.h"
#include "engine/filter_cache.h"
#include "engine/hrtf.h"
#include "engine/room.h"
#include "engine/room_balance.h"
#include "engine/source_encoder.h"
#include "engine/trajectory.h"

namespace sy::engine {

namespace {

// Internal block: the FIFO that lets callers use any block size costs this much latency.
constexpr std::size_t kBlock = 512;
static_assert(CentreSplit::kHop == kBlock, "the centre split runs one transform per internal block");

class SpatialRenderer final : public StereoProcessor {
 public:
  SpatialRenderer(const EngineSettings& settings, std::string sofa_path, BinauralFilterCache* filters,
                  const MotionContext& motion)
      : settings_(settings), sofa_path_(std::move(sofa_path)), filter_cache_(filters),
        encoder_(settings, motion),
        reverb_(setting_over_time(settings.reverb_curve, settings.reverb)) {
    basis_ = encoder_.basis();
    // Fail early (before any decoding starts) when the HRTF set is unusable.
    HrtfSet::check(sofa_path_);
    // reverb 0 turns the room off entirely. With a curve the room runs at full level and
    // its output follows the curve.
    const auto& levels = reverb_.ys();
    reverb_follows_curve_ = !settings_.reverb_curve.empty();
    if (std::any_of(levels.begin(), levels.end(), [](double v) { return v > 0; }))
      room_ = std::make_unique<Room>(
          RoomParams{settings_.room_size, settings_.damping, reverb_follows_curve_ ? 1.0 : settings_.reverb});
    if (encoder_.sources() == 3) split_centre_ = std::make_unique<CentreSplit>();
  }

  void prepare(double sample_rate, std::size_t /*max_block_frames*/) override {
    sample_rate_ = sample_rate;
    BinauralDecoderDesign design;
    design.basis = basis_;
    design.pair_width_degrees = settings_.width_degrees;
    design.crossover_hz = settings_.bass_crossover_hz;
    const BinauralFilterCache::Filters shared =
        filter_cache_ != nullptr ? filter_cache_->get(sofa_path_, sample_rate, design)
                                 : std::make_shared<const BinauralFilters>(
                                       BinauralFilterCache::design_from_file(sofa_path_, sample_rate, design));
    const BinauralFilters& filters = *shared;
    decoder_ = std::make_unique<BinauralDecoder>(filters, kBlock);
    if (split_centre_) split_centre_->prepare(sample_rate);
    // The bass waits for the split as well as for the HRTF path.
    bass_delay_ = filters.low_frequency_delay + split_latency();
    arrival_delay_ = filters.arrival_delay;
    encoder_.prepare(sample_rate, filters.loudness_correction, kBlock);
    bass_gain_ = 0.5f * filters.bass_gain;
    side_equaliser_ = filters.side_equaliser;
    channels_ = ambisonic_channels(basis_);

    split_ = settings_.bass_crossover_hz > 0;
    if (split_) crossover_.prepare(sample_rate, settings_.bass_crossover_hz);

    input_ = AudioBuffer(2, kBlock);
    output_ = AudioBuffer(2, kBlock);
    low_ = AudioBuffer(2, kBlock);
    high_ = AudioBuffer(2, kBlock);
    sh_ = AudioBuffer(channels_, kBlock);
    balanced_ = AudioBuffer(2, kBlock);
    bass_ = std::vector<float>(bass_delay_ + kBlock, 0.0f);
    if (split_centre_) {
      side_ = AudioBuffer(2, kBlock);
      shared_ = std::vector<float>(kBlock, 0.0f);
    }
    if (room_) {
      room_->prepare(sample_rate, kBlock);
      wet_ = AudioBuffer(2, kBlock);
      // The balance is fitted to one room level. A reverb curve moves the level, so with a
      // curve the dry part stays as it is (at level 0 the render is exactly the dry one).
      if (!reverb_follows_curve_) {
        const RoomBalance balance =
            balance_room(RoomParams{settings_.room_size, settings_.damping, settings_.reverb}, sample_rate);
        bass_gain_ *= static_cast<float>(balance.bass_gain);
        dry_shelf_ = {balance.dry_shelf, balance.dry_shelf};
      } else {
        dry_shelf_ = {};
      }
    }
    reset();
  }

  void reset() noexcept override {
    crossover_.reset();
    for (Biquad& f : side_equaliser_) f.reset();
    for (Biquad& f : dry_shelf_) f.reset();
    if (decoder_) decoder_->reset();
    if (room_) room_->reset();
    if (split_centre_) split_centre_->reset();
    input_.clear();
    output_.clear();
    std::fill(bass_.begin(), bass_.end(), 0.0f);
    fill_ = 0;
    frames_done_ = 0;
  }

  void process(ConstAudioView in, AudioView out) noexcept override {
    const std::size_t frames = out.num_frames();
    std::size_t done = 0;
    while (done < frames) {
      const std::size_t n = std::min(frames - done, kBlock - fill_);
      // Read the input before writing the output: they may be the same planes.
      input_.view().slice(fill_, n).copy_from(in.slice(done, n));
      out.slice(done, n).copy_from(std::as_const(output_).view().slice(fill_, n));
      fill_ += n;
      done += n;
      if (fill_ == kBlock) {
        render_block();
        fill_ = 0;
      }
    }
  }

  std::size_t latency() const noexcept override { return kBlock + split_latency() + arrival_delay_; }
  std::size_t tail() const noexcept override { return room_ ? room_->tail() : 0; }

 private:
  std::size_t split_latency() const noexcept { return split_centre_ ? split_centre_->latency() : 0; }

  void render_block() noexcept {
    const AudioBuffer* rotating = &input_;  // what circles: everything, or the band above the bass
    if (split_) {
      crossover_.process(input_.view(), low_.view(), high_.view());
      rotating = &high_;
      // Centred bass, delayed to meet the HRTF path in phase.
      float* fresh = bass_.data() + bass_delay_;
      for (std::size_t i = 0; i < kBlock; ++i) fresh[i] = bass_gain_ * (low_.channel(0)[i] + low_.channel(1)[i]);
    }
    if (split_centre_) {
      // What the channels share stays apart; the rest circles.
      split_centre_->process(rotating->view(), shared_.data(), side_.view());
      rotating = &side_;
    }

    if (!side_equaliser_.empty()) {
      // The side signal gets its equaliser; the mid signal passes as it is.
      const float* l = rotating->channel(0);
      const float* r = rotating->channel(1);
      float* out_l = balanced_.channel(0);
      float* out_r = balanced_.channel(1);
      for (std::size_t i = 0; i < kBlock; ++i) {
        const double mid = 0.5 * (double{l[i]} + double{r[i]});
        double side = 0.5 * (double{l[i]} - double{r[i]});
        for (Biquad& f : side_equaliser_) side = f.tick(side);
        out_l[i] = static_cast<float>(mid + side);
        out_r[i] = static_cast<float>(mid - side);
      }
      rotating = &balanced_;
    }

    // The signal is late by the split's latency: the motion is that of the moment the sound
    // being encoded was in the input.
    encoder_.process(static_cast<std::int64_t>(frames_done_) - static_cast<std::int64_t>(split_latency()),
                     rotating->channel(0), rotating->channel(1), split_centre_ ? shared_.data() : nullptr,
                     sh_.view());
    decoder_->process(sh_.view(), output_.view());

    // The room hears the rotating binaural signal, so its reflections follow the source. It
    // gets no bass: reverberant bass would differ between the ears and undo the centred
    // bass (the usual high-passed reverb send).
    if (room_) {
      room_->process(output_.view(), wet_.view());
      // The wet part is dull at the top: the dry part makes up for it (see balance_room).
      // A reverb curve moves the wet level smoothly: linear over the block between exact values.
      float g0 = 1, dg = 0;
      if (reverb_follows_curve_) {
        const double t0 = static_cast<double>(frames_done_) / sample_rate_;
        const double t1 = static_cast<double>(frames_done_ + kBlock) / sample_rate_;
        g0 = static_cast<float>(reverb_.value(t0));
        dg = (static_cast<float>(reverb_.value(t1)) - g0) / static_cast<float>(kBlock);
      }
      for (std::size_t c = 0; c < 2; ++c) {
        float* o = output_.channel(c);
        const float* w = wet_.channel(c);
        Biquad& shelf = dry_shelf_[c];
        for (std::size_t i = 0; i < kBlock; ++i)
          o[i] = static_cast<float>(shelf.tick(o[i])) + (g0 + dg * static_cast<float>(i)) * w[i];
      }
    }

    if (split_) {
      for (std::size_t c = 0; c < 2; ++c) {
        float* o = output_.channel(c);
        for (std::size_t i = 0; i < kBlock; ++i) o[i] += bass_[i];
      }
      std::memmove(bass_.data(), bass_.data() + kBlock, bass_delay_ * sizeof(float));
    }

    frames_done_ += kBlock;
  }

  EngineSettings settings_;
  std::string sofa_path_;
  BinauralFilterCache* filter_cache_;  // not owned; may be null
  SourceEncoder encoder_;
  MonotoneCubic reverb_;  // room level over time
  bool reverb_follows_curve_ = false;
  std::unique_ptr<CentreSplit> split_centre_;
  AmbisonicBasis basis_ = AmbisonicBasis::kHorizontal;
  std::size_t channels_ = 0;
  double sample_rate_ = 48000.0;

  std::unique_ptr<BinauralDecoder> decoder_;
  StereoLinkwitzRiley4 crossover_;
  bool split_ = false;
  std::size_t bass_delay_ = 0;
  std::size_t arrival_delay_ = 0;
  float bass_gain_ = 0.5f;
  std::vector<Biquad> side_equaliser_;

  std::unique_ptr<Room> room_;
  std::array<Biquad, 2> dry_shelf_;  // per ear, with the room only

  AudioBuffer input_, output_, low_, high_, balanced_, sh_, wet_, side_;
  std::vector<float> shared_;
  std::vector<float> bass_;   // [delay line | current block]
  std::size_t fill_ = 0;
  std::uint64_t frames_done_ = 0;
};

}  // namespace

std::unique_ptr<StereoProcessor> make_renderer(const EngineSettings& settings, const std::string& sofa_path,
                                               BinauralFilterCache* filters, const MotionContext& motion) {
  return std::make_unique<SpatialRenderer>(settings, sofa_path, filters, motion);
}

}  // namespace sy::engine
