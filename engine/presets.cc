#include "engine/presets.h"

namespace sy::engine {

// A preset is a row: its name, its sentence, and where it differs from the struct's defaults
// (the classic sound). Designated fields follow EngineSettings' declaration order.
const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = {
      {"classic", "The song circles your head once every 8 seconds in a moderate room.", {}},
      {"slow", "A calm, slow circle: one revolution every 16 seconds.",
       {.period_seconds = 16.0, .room_size = 0.6}},
      {"fast", "A quick spin, one revolution every 4 seconds, in a tighter room.",
       {.period_seconds = 4.0, .reverb = 0.2, .room_size = 0.4}},
      // Wider source spacing means one of the song's two sources is always near each ear, so
      // the overall image moves less while still circling.
      {"subtle", "Gentle motion with a wide, stable image and a small room, for long listening.",
       {.period_seconds = 12.0, .width_degrees = 120.0, .reverb = 0.15, .room_size = 0.3,
        .damping = 0.6}},
      // The replaced system: random left/right path (a control point about every 2 s), and a
      // Freeverb-like room at pedalboard's defaults (room 0.5, damping 0.5, wet 0.33); its bass
      // swings with the rest of the mix, so no crossover.
      {"legacy", "Sounds like the old converter: random left/right panning with a plain reverb.",
       {.trajectory = Trajectory::kLegacy, .reverb = 0.33, .room_size = 0.5, .damping = 0.5,
        .bass_crossover_hz = 0.0}},
      {"slowed-reverb", "Slowed down to 85% with a big, wet hall and a slow circle.",
       {.period_seconds = 12.0, .reverb = 0.5, .room_size = 0.85, .damping = 0.6, .speed = 0.85}},
      // One turn every four bars of 4/4, passing the front on the bar's first beat; 12 s a turn
      // when the song has no clear beat.
      {"groove", "Moves with the music: one turn every four bars, in front on the downbeat.",
       {.period_seconds = 12.0, .beats_per_turn = 16, .fade_seconds = 4.0}},
      // The singer stays in front while the band circles; a slower, wider turn around it.
      {"vocal-focus", "The voice stays in front of you while the rest of the song circles.",
       {.period_seconds = 10.0, .width_degrees = 90.0, .fade_seconds = 3.0, .vocals = Vocals::kCenter}},
  };
  return list;
}

const Preset* find_preset(const std::string& name) {
  for (const Preset& p : presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace sy::engine
