#pragma once
// Test-only: click tracks in 4/4 made in the test, for the beat tracker and beat-synced motion.
#include <functional>
#include <vector>

namespace sy::testing {

struct ClickTrack {
  std::vector<float> audio;  // mono
  std::vector<double> beats, downbeats;  // seconds
};

// A click track over a noise bed: a low thump on the first beat of each bar, a short high
// click on the others, and a held note that changes with each bar (as harmony does in songs:
// what tells a bar's first beat from its third). `bpm_at(t)` gives the tempo at t seconds.
ClickTrack click_track(double seconds, double sample_rate, const std::function<double(double)>& bpm_at,
                       unsigned seed = 1);

}  // namespace sy::testing
