#pragma once
// Whether a rendered file's sound moves between the ears, measured on what an independent
// decoder (the ffmpeg tool, not our io/) makes of it.
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace sy::testing {

// The first audio stream of `path` as interleaved stereo floats at `rate` (a scratch file in
// `dir` on the way). Throws std::runtime_error when ffmpeg fails.
std::vector<float> decode_stereo(const TempDir& dir, const std::string& path, int rate);

// Spread (max - min) of the left/right level difference over 250 ms windows, in dB: near 0
// for a centred sound, many dB once it circles the head. Silent windows are skipped.
double level_difference_spread(const std::vector<float>& stereo, int rate);

}  // namespace sy::testing
