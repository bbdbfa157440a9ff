#pragma once
// Designed binaural filters kept on disk between processes. A design costs ≈1.5 G
// instructions (the side equaliser's fit is most of it) and every process pays it: each CLI
// run, each render child `serve` starts or restarts. The filters themselves are ≈15 KB, read
// back in well under a millisecond.
#include <optional>
#include <string>

#include "engine/binaural_design.h"

namespace sy::engine {

// Everything the filters depend on, as text: this program's file (size and modification
// time: a rebuilt binary may design differently and never reads an older build's files),
// the HRTF file's path, size and modification time, the sample rate and every field of the
// design. Empty when this program's file cannot be identified (then nothing is stored).
std::string stored_filters_key(const std::string& sofa_path, double sample_rate, const BinauralDecoderDesign& design);

// The filters stored under `key` in `dir`, or nothing when there are none, the file was
// written for another key, or it is damaged in any way (it is then designed and stored again).
std::optional<BinauralFilters> load_stored_filters(const std::string& dir, const std::string& key);

// Writes the filters under `key` (a temporary file renamed into place, so a reader never sees
// half a file). Failures are logged and otherwise ignored: the store only saves time.
void store_filters(const std::string& dir, const std::string& key, const BinauralFilters& filters);

}  // namespace sy::engine
