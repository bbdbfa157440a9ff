#pragma once
// What the room adds, and how the dry signal makes up for it so the sum keeps the song's
// tonal balance.
#include "engine/crossover.h"  // Biquad
#include "engine/room.h"

namespace sy::engine {

// The room's wet output over its input is about -5 dB (default room) through the mids but
// falls above 8 kHz (damping, and the late part holds nothing above a quarter of the rate),
// and the centred bass never reaches it: dry + wet came out 1.2 dB light in the bass and
// 1.5 dB dull at 16 kHz. Given the room's measured power response R(f) (wet over input,
// white noise through a copy of the room at start-up) and its mid level R_mid (200 Hz-
// 2 kHz), the bass is raised by sqrt(1 + R_mid) and the dry binaural signal gets a
// first-order high shelf so that dry + wet has the power (1 + R_mid) x the input's at
// every frequency: |shelf|^2 = (1 + R_mid) / (1 + R(f)) when the room hears the shelved
// signal (the shelf folded into the decoder's filters), 1 + R_mid - R(f) when it hears
// the dry signal before the shelf.
enum class RoomFeed { kShelvedDry, kPlainDry };

struct RoomBalance {
  double bass_gain = 1.0;  // factor for the centred bass
  double mid_level = 0.0;  // R_mid, the wet's power over its input's through the mids
  Biquad dry_shelf;        // for each ear of the dry binaural signal
  // With the shelf folded into the decoder's filters and a bass crossover: a gentle peak
  // on the dry binaural path where the crossover hands over, for the wet power the
  // highpassed send lacks there (identity otherwise; see fill_crossover).
  Biquad dry_fill;
};

// `crossover_hz`: where the renderer's centred bass takes over (0: none).
RoomBalance balance_room(const RoomParams& params, double sample_rate, RoomFeed feed, double crossover_hz = 0.0);

}  // namespace sy::engine
