#pragma once
// The whole 8D chain before loudness: bass split, binaural rotation, room.
#include <memory>
#include <string>

#include "engine/processor.h"
#include "engine/settings.h"
#include "engine/trajectory.h"

namespace sy::engine {

class BinauralFilterCache;

inline constexpr const char* kDefaultSofaPath = "/usr/share/libmysofa/default.sofa";

// Builds the 8D renderer for `settings`. The HRTF set is read from `sofa_path` and
// resampled to the rate passed to prepare(). Throws std::runtime_error when the HRTF
// set cannot be loaded: here without `filters`, in prepare() with them. prepare() takes its binaural filters from `filters` (not owned; it
// must outlive the renderer's prepare() calls), which designs each one once for the
// process; without one, every prepare() designs its own (0.3-0.7 s). `motion` gives the
// song's length (for the fade out) and its beats (for beat sync); the renderer keeps what
// it needs of them.
std::unique_ptr<StereoProcessor> make_renderer(const EngineSettings& settings,
                                               const std::string& sofa_path = kDefaultSofaPath,
                                               BinauralFilterCache* filters = nullptr,
                                               const MotionContext& motion = {});

}  // namespace sy::engine
