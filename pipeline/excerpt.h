#pragma once
// Part of a song instead of all of it: a preview from the loudest part, or a trim between two
// times. Shared by the CLI (--preview, --start, --end) and the service (settings.preview).
#include <atomic>
#include <cstdint>
#include <string>

#include <vector>

#include "base/times.h"
#include "engine/audio_buffer.h"
#include "engine/loudness.h"
#include "io/decoder.h"

namespace sy::pipeline {

struct Excerpt {
  // Times are the song's own (before any varispeed), in seconds.
  double start_seconds = 0;
  double length_seconds = 0;  // 0: to the end of the song
  // Start where the loudest `length_seconds` of the song begin (start_seconds is ignored).
  bool from_loudest = false;

  bool whole_song() const { return !from_loudest && start_seconds <= 0 && length_seconds <= 0; }
};

// "90", "1:30", "1:02:03.5" -> seconds. Throws std::invalid_argument naming `what` for
// anything else, or a negative time.
double parse_time(const std::string& text, const std::string& what);
// 90 -> "1:30"; 3723.5 -> "1:02:03.5" (shared with io/'s messages).
using base::time_text;

// Finds the loudest `seconds` of audio handed over a block at a time: the window with the
// highest mean momentary loudness (EBU R128, in 100 ms steps). It runs a loudness meter, so
// the integrated loudness of everything added comes with it. Memory grows with `seconds`,
// not with the audio.
class LoudestWindow {
 public:
  LoudestWindow(int sample_rate, double seconds);

  void add(engine::ConstAudioView audio);
  // Where the loudest window begins, in seconds of the audio added; 0 when the audio is no
  // longer than the window.
  double start_seconds() const;
  const engine::LoudnessMeter& meter() const { return meter_; }

 private:
  int rate_;
  double seconds_;
  std::size_t step_;
  engine::LoudnessMeter meter_;
  std::size_t in_step_ = 0;
  // The last window's steps' momentary power, summed as they come and go.
  std::vector<double> ring_;
  double sum_ = 0, best_ = -1;
  std::size_t steps_ = 0, best_end_ = 0;
  std::int64_t frames_ = 0;
};

// Where the loudest `seconds` of the song begin, in seconds (LoudestWindow over the decoded
// song). 0 when the song is no longer than `seconds`. Decodes the whole song once (a fraction of a render's time); memory
// grows with `seconds`, not with the song. Throws base::InputError like the decoder.
double find_loudest_start(const std::string& input, double seconds, const io::InputLimits& limits,
                          const std::atomic<bool>* cancel = nullptr);

// Hands out frames [start, start + length) of a decoder's output with Decoder's read()
// contract. Where it cuts into the song, the first and last few milliseconds are faded so the
// cut does not click.
class ExcerptReader {
 public:
  // length_frames < 0: to the end of the song.
  ExcerptReader(io::Decoder& decoder, std::int64_t start_frames, std::int64_t length_frames,
                std::size_t fade_frames, std::size_t block_frames);

  std::size_t read(float* const* dst, std::size_t max_frames);
  // Frames handed out so far: fewer than length_frames once read() returned 0 when the song
  // ended first.
  std::int64_t frames_read() const { return position_; }

 private:
  io::Decoder& decoder_;
  std::int64_t to_skip_;
  std::int64_t length_;
  std::size_t fade_in_, fade_out_;
  std::int64_t position_ = 0;
  engine::AudioBuffer scratch_;
};

}  // namespace sy::pipeline
