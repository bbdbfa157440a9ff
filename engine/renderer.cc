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
    // Fail early (before any decoding starts) when the HRTF set is unusable. With a filter
    // cache the check is prepare()'s, which a render calls before it decodes: the cache reads
    // the set when it designs, or finds filters a design from this very file (its size and
    // modification time) stored, so the file was read and passed then. Opening it here as
    // well cost a CLI run 0.46 G instructions (3.5 % of a 58-s song's render) when nothing
    // else read it.
    if (filter_cache_ == nullptr) HrtfSet::check(sofa_path_);
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
    if (basis_ == AmbisonicBasis::kSphere) {
      // A 3rd-order sphere cannot follow the head everywhere above 2 kHz: fit the magnitudes
      // in decibels, and favour the tilted circle when the source keeps to one (the design
      // is made per render and cached on it; docs/ENGINE.md has the measurements).
      design.magnitude_fit_floor = kSphereMagnitudeFitFloor;
      if (settings_.trajectory == Trajectory::kCircle && settings_.elevation_curve.empty()) {
        // Whole degrees: each distinct value is a design of its own (and a file in the
        // store); half a degree changes nothing audible.
        design.orbit_elevation_degrees = std::round(settings_.elevation_degrees);
        design.orbit_weight = kSphereOrbitWeight;
      }
    }
    const BinauralFilterCache::Filters shared =
        filter_cache_ != nullptr ? filter_cache_->get(sofa_path_, sample_rate, design)
                                 : std::make_shared<const BinauralFilters>(
                                       BinauralFilterCache::design_from_file(sofa_path_, sample_rate, design));
    const BinauralFilters& filters = *shared;
    // With a room at one level, its balance's dry shelf is folded into the decoder's
    // filters (no cost while rendering; the room then hears the shelved signal).
    BinauralFilters shelved;
    const BinauralFilters* decoding = &filters;
    room_balance_ = {};
    if (room_) {
      // With a reverb curve the balance is fitted to the curve's highest level and follows
      // the level while rendering (see mix_room).
      const double level = reverb_follows_curve_ ? *std::max_element(reverb_.ys().begin(), reverb_.ys().end())
                                                 : settings_.reverb;
      room_balance_ = balance_room(RoomParams{settings_.room_size, settings_.damping, level}, sample_rate,
                                   reverb_follows_curve_ ? RoomFeed::kPlainDry : RoomFeed::kShelvedDry,
                                   settings_.bass_crossover_hz);
      room_full_level_ = level;
      if (!reverb_follows_curve_) {
        shelved = filters;
        for (std::vector<float>& h : shelved.channel_filters) {
          Biquad shelf = room_balance_.dry_shelf, fill = room_balance_.dry_fill;
          for (float& x : h) x = static_cast<float>(fill.tick(shelf.tick(x)));
        }
        decoding = &shelved;
      }
    }
    decoder_ = std::make_unique<BinauralDecoder>(*decoding, kBlock);
    if (split_centre_) split_centre_->prepare(sample_rate);
    // The bass waits for the split as well as for the HRTF path.
    bass_delay_ = filters.low_frequency_delay + split_latency();
    arrival_delay_ = filters.arrival_delay;
    encoder_.prepare(sample_rate, filters.loudness_correction, kBlock, filters.side_gain);
    bass_gain_ = 0.5f * filters.bass_gain;
    channels_ = ambisonic_channels(basis_);

    split_ = settings_.bass_crossover_hz > 0;
    // The crossover and the side equaliser run in one pass over the input.
    input_stage_.prepare(sample_rate, settings_.bass_crossover_hz, filters.side_equaliser);
    input_stage_active_ = split_ || !filters.side_equaliser.empty();

    input_ = AudioBuffer(2, kBlock);
    output_ = AudioBuffer(2, kBlock);
    low_ = std::vector<float>(kBlock, 0.0f);
    high_ = AudioBuffer(2, kBlock);
    sh_ = AudioBuffer(channels_, kBlock);
    bass_ = std::vector<float>(bass_delay_ + kBlock, 0.0f);
    if (split_centre_) {
      side_ = AudioBuffer(2, kBlock);
      shared_ = std::vector<float>(kBlock, 0.0f);
    }
    if (room_) {
      room_->prepare(sample_rate, kBlock);
      wet_ = AudioBuffer(2, kBlock);
      if (reverb_follows_curve_) {
        dry_shelf_ = {room_balance_.dry_shelf, room_balance_.dry_shelf};
        lift_ = AudioBuffer(2, kBlock);
      } else {
        bass_gain_ *= static_cast<float>(room_balance_.bass_gain);
      }
    }
    reset();
  }

  void reset() noexcept override {
    input_stage_.reset();
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
    // What circles: everything, or the band above the bass, its side signal equalised.
    const AudioBuffer* rotating = &input_;
    if (input_stage_active_) {
      input_stage_.process(input_.view(), low_, high_.view());
      rotating = &high_;
    }
    if (split_) {
      // Centred bass, delayed to meet the HRTF path in phase.
      float* fresh = bass_.data() + bass_delay_;
      for (std::size_t i = 0; i < kBlock; ++i) fresh[i] = bass_gain_ * low_[i];
    }
    if (split_centre_) {
      // What the channels share stays apart; the rest circles.
      split_centre_->process(rotating->view(), shared_.data(), side_.view());
      rotating = &side_;
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
      mix_room();
    } else if (split_) {
      add_bass(1.0f, 0.0f);
    }
    if (split_) std::memmove(bass_.data(), bass_.data() + kBlock, bass_delay_ * sizeof(float));

    frames_done_ += kBlock;
  }

  // The centred bass of this block, times a gain ramp.
  void add_bass(float g0, float dg) noexcept {
    for (std::size_t c = 0; c < 2; ++c) {
      float* __restrict o = output_.channel(c);
      const float* __restrict bass = bass_.data();
      for (std::size_t i = 0; i < kBlock; ++i) o[i] += (g0 + dg * static_cast<float>(i)) * bass[i];
    }
  }

  // lift_ = the dry shelf's output minus its input, for both ears. The recursion is what
  // bounds this loop, so both ears share each double-precision operation (one SSE2
  // register) and the mix that follows runs apart from it, vectorised.
  void shelf_lift() noexcept {
    using Pair = double __attribute__((vector_size(16)));
    const Biquad& f = dry_shelf_[0];  // both ears have the same coefficients
    const Pair b0{f.b0, f.b0}, b1{f.b1, f.b1}, b2{f.b2, f.b2}, a1{f.a1, f.a1}, a2{f.a2, f.a2};
    Pair z1{dry_shelf_[0].z1, dry_shelf_[1].z1}, z2{dry_shelf_[0].z2, dry_shelf_[1].z2};
    const float* in_l = output_.channel(0);
    const float* in_r = output_.channel(1);
    float* lift_l = lift_.channel(0);
    float* lift_r = lift_.channel(1);
    for (std::size_t i = 0; i < kBlock; ++i) {
      // Transposed direct form II, exactly as Biquad::tick.
      const Pair x{double{in_l[i]}, double{in_r[i]}};
      const Pair y = b0 * x + z1;
      z1 = b1 * x - a1 * y + z2;
      z2 = b2 * x - a2 * y;
      lift_l[i] = static_cast<float>(y[0]) - in_l[i];
      lift_r[i] = static_cast<float>(y[1]) - in_r[i];
    }
    for (std::size_t c = 0; c < 2; ++c) {
      dry_shelf_[c].z1 = z1[static_cast<int>(c)];
      dry_shelf_[c].z2 = z2[static_cast<int>(c)];
    }
  }

  // Adds the room's wet part (in wet_) and the centred bass to the dry binaural signal.
  // The wet part is dull at the top and never has the bass: the dry part and the bass make
  // up for it (see balance_room). At one room level that is folded in (the shelf into the
  // decoder's filters, the bass gain into bass_gain_). A reverb curve moves the level: the
  // wet gain ramps linearly over the block between exact values, and the balance follows
  // it: the dry part crossfades to its shelved copy by (level / fitted level)^2 (the extra
  // power each band needs grows with the wet's power), the bass by sqrt(1 + level^2 R_mid).
  // At level 0 both are exactly the dry render.
  void mix_room() noexcept {
    if (!reverb_follows_curve_) {
      for (std::size_t c = 0; c < 2; ++c) {
        float* o = output_.channel(c);
        const float* w = wet_.channel(c);
        for (std::size_t i = 0; i < kBlock; ++i) o[i] += w[i];
      }
      if (split_) add_bass(1.0f, 0.0f);
      return;
    }
    const double t0 = static_cast<double>(frames_done_) / sample_rate_;
    const double t1 = static_cast<double>(frames_done_ + kBlock) / sample_rate_;
    const double level0 = reverb_.value(t0), level1 = reverb_.value(t1);
    const auto ramp = [](double a, double b) {
      return std::pair{static_cast<float>(a), (static_cast<float>(b) - static_cast<float>(a)) / static_cast<float>(kBlock)};
    };
    const auto [g0, dg] = ramp(level0, level1);
    const double full = room_full_level_ > 0 ? room_full_level_ : 1.0;
    const auto [s0, ds] = ramp(level0 * level0 / (full * full), level1 * level1 / (full * full));
    shelf_lift();
    for (std::size_t c = 0; c < 2; ++c) {
      float* __restrict o = output_.channel(c);
      const float* __restrict w = wet_.channel(c);
      const float* __restrict lift = lift_.channel(c);
      for (std::size_t i = 0; i < kBlock; ++i) {
        const float ramp_i = static_cast<float>(i);
        o[i] += (s0 + ds * ramp_i) * lift[i] + (g0 + dg * ramp_i) * w[i];
      }
    }
    if (split_) {
      const double r_mid = room_balance_.mid_level / (full * full);
      const auto [b0, db] = ramp(std::sqrt(1.0 + level0 * level0 * r_mid), std::sqrt(1.0 + level1 * level1 * r_mid));
      add_bass(b0, db);
    }
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
  MidSideCrossover input_stage_;
  bool input_stage_active_ = false;
  bool split_ = false;
  std::size_t bass_delay_ = 0;
  std::size_t arrival_delay_ = 0;
  float bass_gain_ = 0.5f;

  std::unique_ptr<Room> room_;
  RoomBalance room_balance_;
  double room_full_level_ = 0;       // the room level the balance is fitted to
  std::array<Biquad, 2> dry_shelf_;  // per ear, with a reverb curve only

  AudioBuffer input_, output_, high_, sh_, wet_, side_;
  AudioBuffer lift_;  // the dry shelf's lift, with a reverb curve only
  std::vector<float> low_;  // the centred bass, L + R below the crossover
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
