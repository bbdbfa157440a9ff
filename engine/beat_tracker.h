#pragma once
// Finds a song's beats and bars before it is rendered, for motion locked to the music.
// libqm-dsp (Queen Mary's DSP library, as in the "Bar and Beat Tracker" Vamp plugin and
// Sonic Visualiser): a complex-domain onset detection function over the whole song, a tempo
// path through it by Viterbi decoding (TempoTrackV2, M. E. P. Davies and M. D. Plumbley,
// "Context-dependent beat tracking of musical audio", IEEE TASLP 15(3), 2007), beats by
// dynamic programming along that path (D. Ellis, 2007), and the first beat of each bar from
// spectral change at the beats (DownBeat, Davies and Plumbley, ISMIR 2006). Offline over the
// whole song, so a tempo change is followed from both sides; aubio's tracker is causal and
// finds no bars (what the motion locks to). docs/ENGINE.md has the comparison on real music.
//
// Memory: one value of the detection function per 512 input frames and the song at about
// 3 kHz for the downbeats: 4 bytes per 16 input frames, about 22 MB for the 30 minutes the
// service allows. Not the render's DSP loop: add() may allocate.
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/audio_view.h"
#include "engine/trajectory.h"  // BeatGrid

namespace sy::engine {

struct BeatAnalysis {
  BeatGrid grid;         // empty beats when there is no clear beat
  double tempo_bpm = 0;  // the median tempo of the beats found; 0 with no clear beat
  // How far the detection function rises at the beats above its typical level (1: not at
  // all, as in noise). Below kClearBeat the grid is left empty.
  double clarity = 0;
};

class BeatTracker {
 public:
  // A beat must stand this far above the onset function's median for the song to count as
  // having one (a click track over noise reads about 2, noise alone 1.0 to 1.1).
  static constexpr double kClearBeat = 1.5;

  explicit BeatTracker(double sample_rate);
  ~BeatTracker();
  BeatTracker(const BeatTracker&) = delete;
  BeatTracker& operator=(const BeatTracker&) = delete;

  // The song in order, in blocks of any size (two channels).
  void add(ConstAudioView audio);
  // `bpm` > 0: beats at that tempo (the phase still comes from the song); 0: detected.
  // `beats_per_bar`: the meter the downbeats are found for.
  BeatAnalysis finish(double bpm = 0, int beats_per_bar = 4);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sy::engine
