#include "pipeline/render.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "engine/audio_buffer.h"
#include "engine/beat_tracker.h"
#include "engine/loudness.h"
#include "engine/processor.h"
#include "engine/renderer.h"
#include "engine/true_peak.h"
#include "io/video_mux.h"
#include "base/errors.h"
#include "base/log.h"
#include "pipeline/block_queue.h"
#include "pipeline/output_file.h"
#include "pipeline/spill_file.h"

namespace sy::pipeline {

std::string stage_name(Stage s) {
  switch (s) {
    case Stage::kOpening: return "opening";
    case Stage::kAnalysing: return "analysing";
    case Stage::kRendering: return "rendering";
    case Stage::kChecking: return "checking";
    case Stage::kFinishing: return "finishing";
    case Stage::kDone: return "done";
  }
  return "unknown";
}

namespace {

using Clock = std::chrono::steady_clock;

// How the work splits between the passes, for progress only: the final pass, which encodes,
// takes most of the time.
constexpr double kAnalysisShare = 0.2;
constexpr double kLimiterCheckShare = 0.05;
// Length of the fade that cuts the room's tail at the end of the song.
constexpr double kEndFadeSeconds = 0.03;
// Gain applied to reach the loudness target is clamped to this range (silence stays silence).
constexpr double kMaxGainDb = 30.0;
constexpr double kMinGainDb = -40.0;
// If the analysis pass says the limiter would shave this much or more, measure what it does.
constexpr double kLimiterCheckDb = 3.0;
// The share of progress for decoding and measuring the delivered file (and any correction).
constexpr double kCheckShare = 0.05;
// Lossy encoders move the loudness of what they are given (MP3 at 192k: -0.25 to -0.28 LU
// on the hyperrogue tracks, the same in every 10-s stretch of a song; AAC -0.03 to -0.09;
// Opus about 0) and its true peak (Opus, AAC: up to +0.5 dB). Before the song is encoded,
// this long an excerpt from its loudest part is encoded and decoded to learn by how much,
// and the gain and ceiling make up for it, so the song is encoded once. 4 s read the same
// shift as 8 s to 0.02 LU and cost 7 % of a 58-s song's encode. 2 s read MP3's shift as
// well (within 0.03 LU on all 14 hyperrogue tracks) but see fewer of the peaks the encoder
// lifts: hr3-desert then took 4 encodes and came out 0.66 LU quiet (2 at 4 s, 1 at 8 s).
constexpr double kPilotSeconds = 4;
// LAME's fast algorithm for a constant-bit-rate MP3 pilot (the song itself is encoded at
// LAME's default, 3; a VBR pilot keeps the song's settings, which LAME maps differently):
// 2.2 times fewer instructions (callgrind, 10 s at 192k: 0.73 G against 1.6 G), and on the
// 14 hyperrogue tracks at 192k it reads the shift within 0.012 LU of the default pilot's and
// the peaks within 0.17 dB (inside kPilotPeakMarginDb); one track then needed the song encoded
// a second time, against two tracks with the default pilot.
constexpr int kPilotMp3Quality = 7;
constexpr double kPilotShare = 0.03;
// The pilot's ends fade so the encoder does not ring on a cut (which would read as a peak).
constexpr double kPilotFadeSeconds = 0.02;
// Elsewhere in the song the encoder may lift a peak a little more than in the pilot: the
// pilot's decoded peaks are held this far under the ceiling.
constexpr double kPilotPeakMarginDb = 0.2;
// The delivered file may miss the loudness target by this much before it is encoded again
// (a rare fallback once the pilot has predicted the encoder; the promise is +-0.3 LU, and
// what the pilot cannot see, the limiter taking 0.1 LU more off the whole song than the
// analysis allowed for, stays inside 0.2).
constexpr double kLoudnessToleranceLu = 0.2;
constexpr int kMaxCorrections = 2;
// A corrected ceiling sits this far below what the encoder overshot by.
constexpr double kCeilingMarginDb = 0.1;
// When no attempt came out under the ceiling, the best one is encoded again with gain and
// ceiling both lowered by its overshoot and a margin that doubles each time (the limiter's
// output is then the same mix scaled down); past the last, the render fails rather than
// deliver a file over the ceiling. FFmpeg's AAC at 64k on a dense mix pushed to -6 LUFS lifts
// its decoded peaks 0.8 to 3.3 dB over the limiter's ceiling, unevenly: 0.65 dB down once came
// out 1.7 dB louder at the peak, 1.15 dB down 1.3 dB quieter (hr-savino-palace.ogg), so the
// margins are wide.
constexpr int kMaxFallbacks = 3;
constexpr double kFallbackMarginDb = 0.5;
// Cuts into a song (an excerpt) fade over this long so they do not click.
constexpr double kExcerptFadeSeconds = 0.02;

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
  if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) throw base::Cancelled();
}

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }

// The processing chain of one pass: renderer, then gain and limiter. The analysis pass runs
// the renderer alone; the passes over the spilled mix run gain and limiter alone.
struct Chain {
  engine::StereoProcessor* renderer = nullptr;
  engine::StereoProcessor* limiter = nullptr;
  float gain = 1.0f;

  std::size_t latency() const {
    return (renderer ? renderer->latency() : 0) + (limiter ? limiter->latency() : 0);
  }
  void process(engine::AudioView audio) noexcept {
    if (renderer) renderer->process(audio, audio);
    if (gain != 1.0f)
      for (std::size_t c = 0; c < 2; ++c)
        for (float& v : audio.span(c)) v *= gain;
    if (limiter) limiter->process(audio, audio);
  }
};

std::unique_ptr<engine::StereoProcessor> make_stage(const RenderOptions& o, const engine::MotionContext& motion) {
  if (o.gain_only) return std::make_unique<engine::GainProcessor>(1.0f);
  return engine::make_renderer(o.engine, o.sofa_path.empty() ? std::string(engine::kDefaultSofaPath) : o.sofa_path,
                               o.filter_cache, motion);
}

// The beat pass: the whole song once through the tracker before the render, since a motion
// locked to the bar has to know where the bars are before it starts. Decoding twice costs
// less than keeping the song: a decode runs at hundreds of times real time.
engine::BeatAnalysis find_beats(const std::string& input, const io::DecodeOptions& dopts, const RenderOptions& o,
                                int rate, const std::atomic<bool>* cancel, double* duration_seconds) {
  auto decoder = io::Decoder::open(input, dopts);
  engine::BeatTracker tracker(rate);
  engine::AudioBuffer buf(2, o.block_frames);
  std::int64_t frames = 0;
  while (std::size_t n = decoder->read(buf.planes(), o.block_frames)) {
    check_cancel(cancel);
    tracker.add(std::as_const(buf).view().first(n));
    frames += static_cast<std::int64_t>(n);
  }
  *duration_seconds = static_cast<double>(frames) / rate;
  return tracker.finish(o.engine.bpm);
}

bool room_on(const RenderOptions& o) { return !o.gain_only && o.engine.reverb > 0; }

// Runs one pass over a source (anything with Decoder's read()): process in fixed blocks,
// drop the chain's latency from the front, flush it (and the tail if asked) at the end,
// and hand the aligned output to `sink(audio, offset)`. Returns the input frames.
template <typename Source, typename Sink>
std::int64_t run_pass(Source& decoder, Chain& chain, const RenderOptions& o, std::size_t extra_tail,
                      ProgressReporter& progress, const std::atomic<bool>* cancel, Sink&& sink) {
  const std::size_t block = o.block_frames;
  engine::AudioBuffer buf(2, block);
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
      sink(std::as_const(buf).view().slice(offset, frames - offset), out_pos);
      out_pos += static_cast<std::int64_t>(frames - offset);
    }
  };

  for (;;) {
    check_cancel(cancel);
    std::size_t n = decoder.read(buf.planes(), block);
    if (n == 0) break;
    in_frames += static_cast<std::int64_t>(n);
    chain.process(buf.view().first(n));
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
    chain.process(buf.view().first(n));
    emit(n);
  }
  return in_frames;
}

// Frames [start, start + length) of the spilled mix, with Decoder's read(), the ends faded.
class SpillExcerpt {
 public:
  SpillExcerpt(SpillFile& spill, std::int64_t start, std::int64_t length, std::size_t fade)
      : spill_(spill), length_(length), fade_(std::min<std::size_t>(fade, static_cast<std::size_t>(length / 2))) {
    spill_.seek(start);
  }

  std::size_t read(float* const* dst, std::size_t max_frames) {
    max_frames = static_cast<std::size_t>(std::min<std::int64_t>(static_cast<std::int64_t>(max_frames), length_ - position_));
    const std::size_t n = max_frames > 0 ? spill_.read(dst, max_frames) : 0;
    for (std::size_t i = 0; i < n && fade_ > 0; ++i) {
      const std::int64_t at = position_ + static_cast<std::int64_t>(i);
      const std::int64_t from_end = length_ - 1 - at;
      const std::int64_t edge = std::min(at, from_end);
      if (edge >= static_cast<std::int64_t>(fade_)) continue;
      const float g = static_cast<float>(0.5 * (1.0 - std::cos(M_PI * static_cast<double>(edge) / static_cast<double>(fade_))));
      dst[0][i] *= g;
      dst[1][i] *= g;
    }
    position_ += static_cast<std::int64_t>(n);
    return n;
  }

 private:
  SpillFile& spill_;
  std::int64_t length_;
  std::size_t fade_;
  std::int64_t position_ = 0;
};

// Copies audio of any length into a queue's fixed blocks and pushes each full one.
class BlockWriter {
 public:
  explicit BlockWriter(BlockQueue& queue) : queue_(queue) {}

  // Throws base::Cancelled when the queue was closed (the other side gave up).
  void put(engine::ConstAudioView audio) {
    const std::size_t n = audio.num_frames();
    std::size_t done = 0;
    while (done < n) {
      if (cur_ == nullptr) {
        cur_ = queue_.acquire();
        if (cur_ == nullptr) throw base::Cancelled();
        cur_->frames = 0;
      }
      const std::size_t room = cur_->audio.num_frames() - cur_->frames;
      const std::size_t k = std::min(room, n - done);
      cur_->audio.view().slice(cur_->frames, k).copy_from(audio.slice(done, k));
      cur_->frames += k;
      done += k;
      if (cur_->frames == cur_->audio.num_frames()) {
        queue_.push(cur_);
        cur_ = nullptr;
      }
    }
  }
  // Pushes the last, partly filled block and tells the consumer nothing more comes.
  void finish() {
    if (cur_ != nullptr && cur_->frames > 0) queue_.push(cur_);
    cur_ = nullptr;
    queue_.finish();
  }

 private:
  BlockQueue& queue_;
  BlockQueue::Block* cur_ = nullptr;
};

// Runs `produce(BlockWriter&)` on its own thread; the caller reads what it writes through
// read(), with Decoder's contract. The producer's exception comes out of read(). Leaving
// scope early (an exception on the reading side) closes the queue, so the producer stops at
// its next put(), and waits for it.
class ThreadedSource {
 public:
  // Threads hand over 16384 frames at a time (4 x 128 KiB in flight): waking the other
  // side for every 1024-frame DSP block cost about a second of kernel time per 5 minutes.
  static constexpr std::size_t kHandOffFrames = 16384;
  static constexpr std::size_t kHandOffBlocks = 4;

  // `name` (at most 15 characters) shows in top, perf and gdb.
  template <typename Produce>
  ThreadedSource(const char* name, Produce produce) : queue_(kHandOffBlocks, kHandOffFrames) {
    thread_ = std::thread([this, name, produce = std::move(produce)]() mutable {
      pthread_setname_np(pthread_self(), name);
      try {
        BlockWriter writer(queue_);
        produce(writer);
        writer.finish();
      } catch (...) {
        error_ = std::current_exception();
        queue_.close();
      }
    });
  }
  ~ThreadedSource() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
  }
  ThreadedSource(const ThreadedSource&) = delete;
  ThreadedSource& operator=(const ThreadedSource&) = delete;

  // Hands everything the producer writes to `use(audio)`, a block at a time.
  template <typename Use>
  void drain(std::size_t block_frames, Use&& use) {
    engine::AudioBuffer buf(2, block_frames);
    while (std::size_t n = read(buf.planes(), block_frames)) use(std::as_const(buf).view().first(n));
  }

  std::size_t read(float* const* dst, std::size_t max_frames) {
    std::size_t done = 0;
    while (done < max_frames) {
      if (cur_ == nullptr) {
        cur_ = queue_.pop();
        pos_ = 0;
        if (cur_ == nullptr) {
          if (thread_.joinable()) thread_.join();
          if (error_) std::rethrow_exception(error_);
          break;
        }
      }
      const std::size_t k = std::min(cur_->frames - pos_, max_frames - done);
      for (std::size_t c = 0; c < 2; ++c)
        std::copy(cur_->audio.channel(c) + pos_, cur_->audio.channel(c) + pos_ + k, dst[c] + done);
      pos_ += k;
      done += k;
      if (pos_ == cur_->frames) {
        queue_.release(cur_);
        cur_ = nullptr;
      }
    }
    return done;
  }

 private:
  BlockQueue queue_;
  std::thread thread_;
  std::exception_ptr error_;
  BlockQueue::Block* cur_ = nullptr;
  std::size_t pos_ = 0;
};

// Decodes on its own thread, so decoding overlaps the DSP.
std::unique_ptr<ThreadedSource> decode_ahead(ExcerptReader& decoder, std::size_t block_frames) {
  return std::make_unique<ThreadedSource>("sy-decode", [&decoder, block_frames](BlockWriter& out) {
    engine::AudioBuffer buf(2, block_frames);
    while (std::size_t n = decoder.read(buf.planes(), block_frames)) out.put(std::as_const(buf).view().first(n));
  });
}

// Holds back the last few frames so the end of the output can be faded out.
class EndFader {
 public:
  EndFader(std::size_t frames) : hold_(2, std::max<std::size_t>(frames, 1)), size_(frames) {}

  template <typename Out>
  void push(engine::ConstAudioView audio, Out&& out) {
    if (size_ == 0) {
      out(audio);
      return;
    }
    const std::size_t frames = audio.num_frames();
    const engine::AudioView hold = hold_.view();
    // Everything older than the newest size_ frames can go out.
    std::size_t total = held_ + frames;
    if (total > size_) {
      std::size_t release = total - size_;
      std::size_t from_held = std::min(release, held_);
      if (from_held > 0) {
        out(engine::ConstAudioView(hold.first(from_held)));
        hold.copy_from(hold.slice(from_held, held_ - from_held));
        held_ -= from_held;
      }
      std::size_t from_new = release - from_held;
      if (from_new > 0) out(audio.first(from_new));
      hold.slice(held_, frames - from_new).copy_from(audio.slice(from_new, frames - from_new));
      held_ += frames - from_new;
    } else {
      hold.slice(held_, frames).copy_from(audio);
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
    out(std::as_const(hold_).view().first(held_));
    held_ = 0;
  }

 private:
  engine::AudioBuffer hold_;
  std::size_t size_;
  std::size_t held_ = 0;
};

io::Metadata output_metadata(const io::AudioInfo& info, const std::string& input) {
  io::Metadata m = info.metadata;
  std::string title;
  if (auto it = m.tags.find("title"); it != m.tags.end() && !it->second.empty()) title = it->second;
  if (title.empty()) title = std::filesystem::path(input).stem().string();
  m.tags["title"] = title + " (8D)";
  return m;
}

}  // namespace

io::OutputFormat output_format(const std::string& input, const RenderOptions& options) {
  if (!options.keep_format) return options.encode.format;
  const io::OutputFormat kept = io::kept_format(input, options.limits);
  if (io::format_info(kept).video && !options.excerpt.whole_song()) return io::OutputFormat::kM4a;
  return kept;
}

RenderResult render_file(const std::string& input, const std::string& output, const RenderOptions& options,
                         const ProgressFn& progress_fn, const std::atomic<bool>* cancel) {
  const auto started = Clock::now();
  if (options.block_frames == 0) throw base::UsageError("block size must be positive");
  io::DecodeOptions dopts;
  dopts.limits = options.limits;
  dopts.speed = options.gain_only ? 1.0 : options.engine.speed;

  RenderResult result;
  const Excerpt& excerpt = options.excerpt;
  result.excerpt_start_seconds = excerpt.start_seconds;
  if (excerpt.from_loudest)
    result.excerpt_start_seconds = find_loudest_start(input, excerpt.length_seconds, options.limits, cancel);

  // A trim that ends inside the duration limit renders from a file that declares more; every
  // other pass reads the whole song.
  io::DecodeOptions excerpt_dopts = dopts;
  if (!excerpt.from_loudest && excerpt.length_seconds > 0)
    excerpt_dopts.read_until_seconds = excerpt.start_seconds + excerpt.length_seconds;
  auto decoder = io::Decoder::open(input, excerpt_dopts);
  const int rate = decoder->output_sample_rate();
  // Decoder frames are output time: varispeed stretches the song's seconds by 1/speed.
  auto frames_of = [&](double song_seconds) { return std::llround(song_seconds / dopts.speed * rate); };
  const std::int64_t start_frames = frames_of(result.excerpt_start_seconds);
  const std::int64_t length_frames = excerpt.length_seconds > 0 ? frames_of(excerpt.length_seconds) : -1;
  ExcerptReader source(*decoder, start_frames, length_frames,
                       excerpt.whole_song() ? 0 : static_cast<std::size_t>(kExcerptFadeSeconds * rate),
                       options.block_frames);
  ProgressReporter progress(progress_fn, rate);
  std::int64_t expected = std::max<std::int64_t>(decoder->estimated_frames() - start_frames, 0);
  if (length_frames >= 0) expected = std::min(expected, length_frames);
  progress.set_total_frames(expected);
  progress.stage(Stage::kOpening, 0, 0);

  // Refuse an existing output before doing any work; the temp file lives beside it.
  OutputFile out_file(output, options.overwrite);
  const io::OutputFormat format = output_format(input, options);
  const bool video = io::format_info(format).video;
  // The picture is copied, never cut: an excerpt of one would not match the sound.
  if (video && !excerpt.whole_song() && io::has_video(input, options.limits))
    throw base::InputError("a preview or trim of a video is audio only: choose an audio format or keep");
  // A video container: the audio is encoded on its own beside the output (never committed:
  // it goes when this render ends), measured there, then joined with the picture.
  std::optional<OutputFile> audio_part;
  if (video)
    audio_part.emplace(output + ".8d-audio" + io::format_extension(io::audio_format_for(format)), true);
  const std::string& encoded = audio_part ? audio_part->temp_path() : out_file.temp_path();

  result.sample_rate = rate;
  result.warnings = decoder->info().warnings;
  auto check_not_empty = [&](std::int64_t frames) {
    if (frames == 0 && start_frames > 0)
      throw base::InputError("the excerpt starts at " + time_text(result.excerpt_start_seconds) +
                             ", past the end of the song");
  };

  const std::size_t block = options.block_frames;
  // The fade's ease out ends at the song's end as the container tells it (0 when unknown:
  // then the motion only eases in); a beat pass counts it exactly.
  engine::MotionContext motion;
  motion.duration_seconds = static_cast<double>(decoder->estimated_frames()) / rate;
  engine::BeatGrid beats;
  if (!options.gain_only && options.engine.beats_per_turn > 0) {
    progress.stage(Stage::kAnalysing, 0, 0);
    const engine::BeatAnalysis found = find_beats(input, dopts, options, rate, cancel, &motion.duration_seconds);
    beats = found.grid;
    motion.beats = &beats;
    result.tempo_bpm = found.tempo_bpm;
    if (beats.beats.empty()) {
      std::ostringstream note;
      note << "no clear beat found: turning once every " << options.engine.period_seconds << " s instead";
      result.motion_note = note.str();
    }
  }
  std::unique_ptr<engine::StereoProcessor> renderer = make_stage(options, motion);
  renderer->prepare(rate, block);
  const std::size_t tail = options.keep_tail ? renderer->tail() : 0;
  std::unique_ptr<engine::StereoProcessor> limiter;
  double ceiling_dbtp = options.engine.true_peak_dbtp;
  auto make_limiter = [&] {
    limiter = engine::make_true_peak_limiter(ceiling_dbtp);
    limiter->prepare(rate, block);
  };

  io::EncodeOptions eopts = options.encode;
  eopts.sample_rate = rate;
  eopts.format = video ? io::audio_format_for(format) : format;

  // With normalisation the engine runs once, in the analysis pass, into a spill file; the
  // later passes read the mix back and only apply gain and the limiter.
  std::unique_ptr<SpillFile> spill;
  double gain_db = 0;
  double final_base = 0;
  if (options.normalize) {
    // Pass 1, on three threads: decoding, the engine, and metering + spilling.
    progress.stage(Stage::kAnalysing, 0, kAnalysisShare);
    spill = std::make_unique<SpillFile>(std::filesystem::path(out_file.temp_path()).parent_path().string());
    LoudestWindow loudest(rate, kPilotSeconds);
    float peak = 0;
    {
      ThreadedSource rendered("sy-engine", [&](BlockWriter& out) {
        auto ahead = decode_ahead(source, block);  // owned here: stops before this thread ends
        Chain chain;
        chain.renderer = renderer.get();
        const std::int64_t frames = run_pass(*ahead, chain, options, tail, progress, cancel,
                                             [&](engine::ConstAudioView audio, std::int64_t) { out.put(audio); });
        check_not_empty(frames);
        progress.set_total_frames(frames);
      });
      rendered.drain(block, [&](engine::ConstAudioView audio) {
        loudest.add(audio);
        spill->write(audio);
        // Per block (engine/true_peak.h): folded sample by sample into this peak, held by
        // reference, it was stored and reloaded at every sample (1 % of a render).
        for (std::size_t c = 0; c < 2; ++c)
          peak = std::max(peak, engine::largest_magnitude(audio.channel(c), audio.num_frames()));
      });
    }
    progress.set_total_frames(spill->frames());
    const double lufs = loudest.meter().integrated_lufs();
    result.input_lufs = lufs;
    // The loudness the mix needs before the encoder: the target, less what the encoder adds.
    double mix_target = options.engine.loudness_lufs;
    if (std::isfinite(lufs)) gain_db = std::clamp(mix_target - lufs, kMinGainDb, kMaxGainDb);
    final_base = kAnalysisShare;
    make_limiter();

    // A loud target on a peaky mix: the limiter will pull the loudness down. Measure by how
    // much on the spilled mix (gain and limiter on one thread, the meter on this one) and make
    // up for it.
    const double peak_db = peak > 0 ? 20 * std::log10(peak) : -200;
    auto check_limiter = [&](double share) {
      if (!std::isfinite(lufs) || peak_db + gain_db <= ceiling_dbtp + kLimiterCheckDb) return;
      progress.stage(Stage::kAnalysing, final_base, share);
      final_base += share;
      spill->rewind();
      engine::LoudnessMeter check(rate);
      {
        ThreadedSource limited("sy-limiter", [&](BlockWriter& out) {
          Chain chain;
          chain.limiter = limiter.get();
          chain.gain = static_cast<float>(db_to_gain(gain_db));
          run_pass(*spill, chain, options, 0, progress, cancel,
                   [&](engine::ConstAudioView audio, std::int64_t) { out.put(audio); });
        });
        limited.drain(block, [&](engine::ConstAudioView audio) { check.add(audio); });
      }
      limiter->reset();
      const double limited = check.integrated_lufs();
      if (std::isfinite(limited))
        gain_db = std::clamp(gain_db + (mix_target - limited), kMinGainDb, kMaxGainDb);
    };
    check_limiter(kLimiterCheckShare);

    if (io::format_info(eopts.format).lossy && std::isfinite(lufs)) {
      // The encoder pilot (kPilotSeconds): the loudest stretch of the mix through gain and
      // limiter into the encoder, then decoded and measured like the delivered file.
      progress.stage(Stage::kAnalysing, final_base, kPilotShare);
      final_base += kPilotShare;
      const std::int64_t total = spill->frames();
      const std::int64_t length = std::min<std::int64_t>(total, std::llround(kPilotSeconds * rate));
      const std::int64_t start =
          std::clamp<std::int64_t>(std::llround(loudest.start_seconds() * rate), 0, total - length);
      progress.set_total_frames(length);
      OutputFile pilot_file(output + ".8d-pilot" + io::format_extension(eopts.format), true);
      engine::LoudnessMeter before(rate);
      WrittenFileMeter pilot_meter;
      {
        io::EncodeOptions pilot_eopts = eopts;
        if (pilot_eopts.vbr_quality < 0) pilot_eopts.mp3_quality = kPilotMp3Quality;
        auto encoder = io::Encoder::open(pilot_file.temp_path(), pilot_eopts, io::Metadata{}, pilot_meter.listener());
        auto pilot_limiter = engine::make_true_peak_limiter(ceiling_dbtp);
        pilot_limiter->prepare(rate, block);
        Chain chain;
        chain.limiter = pilot_limiter.get();
        chain.gain = static_cast<float>(db_to_gain(gain_db));
        SpillExcerpt stretch(*spill, start, length, static_cast<std::size_t>(kPilotFadeSeconds * rate));
        run_pass(stretch, chain, options, 0, progress, cancel, [&](engine::ConstAudioView audio, std::int64_t) {
          before.add(audio);
          encoder->write(audio.data(), audio.num_frames());
        });
        encoder->finish();
      }
      check_cancel(cancel);
      const FileReport after = pilot_meter.report();
      progress.set_total_frames(total);
      const double shift = after.integrated_lufs - before.integrated_lufs();
      const double overshoot = after.true_peak_dbtp - (options.engine.true_peak_dbtp - kPilotPeakMarginDb);
      if (std::isfinite(shift)) {
        mix_target -= shift;
        gain_db = std::clamp(gain_db - shift, kMinGainDb, kMaxGainDb);
      }
      if (std::isfinite(overshoot) && overshoot > 0) {
        ceiling_dbtp -= overshoot;
        make_limiter();
        // A lower ceiling takes more off the loudness: measured again at the new one.
        check_limiter(0);
      }
    }
  }

  const io::Metadata metadata = output_metadata(decoder->info(), input);
  const std::size_t fade = (room_on(options) && !options.keep_tail)
                               ? static_cast<std::size_t>(kEndFadeSeconds * rate)
                               : 0;
  // The final pass: the DSP (and without a spill, decoding ahead of it) on their own threads,
  // encoding on this one, and the encoder's packets decoded and measured on another as they
  // come out: the delivered file's report is ready when the encode ends.
  auto encode_pass = [&](const std::string& path, FileReport* report) {
    WrittenFileMeter written;
    auto encoder = io::Encoder::open(path, eopts, metadata, written.listener());
    std::int64_t frames = 0;
    {
      ThreadedSource mixed("sy-mix", [&](BlockWriter& out) {
        EndFader fader(fade);
        auto put = [&](engine::ConstAudioView audio) { out.put(audio); };
        Chain chain;
        chain.limiter = limiter.get();
        chain.gain = static_cast<float>(db_to_gain(gain_db));
        auto sink = [&](engine::ConstAudioView audio, std::int64_t) { fader.push(audio, put); };
        if (spill) {
          spill->rewind();
          run_pass(*spill, chain, options, 0, progress, cancel, sink);
        } else {
          chain.renderer = renderer.get();
          auto ahead = decode_ahead(source, block);
          check_not_empty(run_pass(*ahead, chain, options, tail, progress, cancel, sink));
        }
        fader.finish(put);
      });
      mixed.drain(block, [&](engine::ConstAudioView audio) {
        encoder->write(audio.data(), audio.num_frames());
        frames += static_cast<std::int64_t>(audio.num_frames());
      });
    }
    check_cancel(cancel);
    encoder->finish();
    ++result.encodes;
    *report = written.report();
    return frames;
  };

  progress.stage(Stage::kRendering, final_base, 1 - final_base - kCheckShare);
  result.frames = encode_pass(encoded, &result.report);
  // A trim asked past the end still renders (to the end), but not in silence: the user asked
  // for more than the song has. A preview's window is the song's own choice, so it says nothing.
  if (!excerpt.from_loudest && length_frames > 0 && length_frames - source.frames_read() > rate / 20) {
    const double song_seconds = static_cast<double>(start_frames + source.frames_read()) * dopts.speed / rate;
    std::ostringstream said;
    said << "the song is only " << std::fixed << std::setprecision(1) << song_seconds
         << " s long, so the excerpt ends there, not at "
         << time_text(result.excerpt_start_seconds + excerpt.length_seconds);
    result.warnings.push_back(said.str());
  }
  progress.stage(Stage::kChecking, 1 - kCheckShare, 0);
  // What the listener gets is the decoded file: an encoder's filtering and quantisation move
  // its loudness and peaks. Measured, corrected, and rendered again from the spilled mix into
  // a file of its own; the best attempt so far stays in `encoded`, and is what is delivered.
  if (spill) {
    const double target = options.engine.loudness_lufs;
    const double ceiling = options.engine.true_peak_dbtp;
    auto overshoot_of = [&](const FileReport& r) { return r.true_peak_dbtp - ceiling; };
    // Under the ceiling first (the less over it the better), then nearest the target.
    auto better = [&](const FileReport& a, const FileReport& b) {
      const double over_a = std::max(overshoot_of(a), 0.0), over_b = std::max(overshoot_of(b), 0.0);
      if (over_a != over_b) return over_a < over_b;
      return std::fabs(a.integrated_lufs - target) < std::fabs(b.integrated_lufs - target);
    };
    double best_gain_db = gain_db, best_ceiling_dbtp = ceiling_dbtp;
    std::optional<OutputFile> attempt_file;
    int attempts = 0;
    // Each attempt reports in its own slice of the check's share: progress never goes back.
    const double slice = kCheckShare / (kMaxCorrections + kMaxFallbacks);
    auto try_again = [&](const char* why, const FileReport& off) {
      base::log::event(spdlog::level::debug, why,
                       {{"lufs", off.integrated_lufs}, {"true_peak_dbtp", off.true_peak_dbtp},
                        {"gain_db", gain_db}, {"ceiling_dbtp", ceiling_dbtp}});
      make_limiter();
      progress.stage(Stage::kChecking, 1 - kCheckShare + attempts * slice, slice);
      ++attempts;
      if (!attempt_file) attempt_file.emplace(output + ".8d-retry" + io::format_extension(eopts.format), true);
      FileReport got;
      encode_pass(attempt_file->temp_path(), &got);
      check_cancel(cancel);
      if (better(got, result.report)) {
        std::filesystem::rename(attempt_file->temp_path(), encoded);
        result.report = got;
        best_gain_db = gain_db;
        best_ceiling_dbtp = ceiling_dbtp;
      }
      return got;
    };
    FileReport got = result.report;
    for (int correction = 0; correction < kMaxCorrections; ++correction) {
      if (!std::isfinite(got.integrated_lufs)) break;
      const double loudness_error = target - got.integrated_lufs;
      const double overshoot = overshoot_of(got);
      if (std::fabs(loudness_error) <= kLoudnessToleranceLu && overshoot <= 0) break;
      const double new_gain = std::clamp(gain_db + loudness_error, kMinGainDb, kMaxGainDb);
      if (overshoot > 0) ceiling_dbtp -= overshoot + kCeilingMarginDb;
      else if (new_gain == gain_db) break;  // clamped: another pass would change nothing
      gain_db = new_gain;
      got = try_again("delivered file off target; rendering again", got);
    }
    for (int fallback = 0; fallback < kMaxFallbacks && overshoot_of(result.report) > 0; ++fallback) {
      const double down = overshoot_of(result.report) + kFallbackMarginDb * (1 << fallback);
      gain_db = best_gain_db - down;
      ceiling_dbtp = best_ceiling_dbtp - down;
      try_again("delivered file over the ceiling; rendering the best attempt quieter", result.report);
    }
    if (overshoot_of(result.report) > 0)
      throw std::runtime_error("the encoded file stays over the true-peak ceiling");
    gain_db = best_gain_db;
  }
  result.output_gain_db = gain_db;

  progress.stage(Stage::kFinishing, 1, 0);
  if (video) io::mux_with_video(input, encoded, out_file.temp_path(), format, options.limits);
  out_file.commit();

  std::error_code ec;
  result.bytes = static_cast<std::int64_t>(std::filesystem::file_size(output, ec));
  result.duration_seconds = static_cast<double>(result.frames) / rate;
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  progress.stage(Stage::kDone, 1, 0);
  return result;
}

}  // namespace sy::pipeline
