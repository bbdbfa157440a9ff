#include "engine/presets.h"

namespace sy::engine {

namespace {

std::vector<Preset> make_presets() {
  std::vector<Preset> list;

  EngineSettings classic;  // the struct's defaults are the classic sound
  list.push_back({"classic", "The song circles your head once every 8 seconds in a moderate room.",
                  classic});

  EngineSettings slow = classic;
  slow.period_seconds = 16.0;
  slow.room_size = 0.6;
  list.push_back({"slow", "A calm, slow circle: one revolution every 16 seconds.", slow});

  EngineSettings fast = classic;
  fast.period_seconds = 4.0;
  fast.reverb = 0.2;
  fast.room_size = 0.4;
  list.push_back({"fast", "A quick spin, one revolution every 4 seconds, in a tighter room.", fast});

  // Wider source spacing means one of the song's two sources is always near each ear, so
  // the overall image moves less while still circling.
  EngineSettings subtle = classic;
  subtle.period_seconds = 12.0;
  subtle.width_degrees = 120.0;
  subtle.reverb = 0.15;
  subtle.room_size = 0.3;
  subtle.damping = 0.6;
  list.push_back({"subtle", "Gentle motion with a wide, stable image and a small room, for long listening.",
                  subtle});

  // The replaced system: random left/right path (a control point about every 2 s), and a
  // Freeverb-like room at pedalboard's defaults (room 0.5, damping 0.5, wet 0.33); its bass
  // swings with the rest of the mix, so no crossover.
  EngineSettings legacy = classic;
  legacy.trajectory = Trajectory::kLegacy;
  legacy.reverb = 0.33;
  legacy.room_size = 0.5;
  legacy.damping = 0.5;
  legacy.bass_crossover_hz = 0.0;
  list.push_back({"legacy", "Sounds like the old converter: random left/right panning with a plain reverb.",
                  legacy});

  EngineSettings slowed = classic;
  slowed.speed = 0.85;
  slowed.period_seconds = 12.0;
  slowed.reverb = 0.5;
  slowed.room_size = 0.85;
  slowed.damping = 0.6;
  list.push_back({"slowed-reverb", "Slowed down to 85% with a big, wet hall and a slow circle.",
                  slowed});

  // One turn every four bars of 4/4, passing the front on the bar's first beat; 12 s a turn
  // when the song has no clear beat.
  EngineSettings groove = classic;
  groove.beats_per_turn = 16;
  groove.period_seconds = 12.0;
  groove.fade_seconds = 4.0;
  list.push_back({"groove", "Moves with the music: one turn every four bars, in front on the downbeat.", groove});

  // The singer stays in front while the band circles; a slower, wider turn around it.
  EngineSettings vocal_focus = classic;
  vocal_focus.vocals = Vocals::kCenter;
  vocal_focus.period_seconds = 10.0;
  vocal_focus.width_degrees = 90.0;
  vocal_focus.fade_seconds = 3.0;
  list.push_back({"vocal-focus", "The voice stays in front of you while the rest of the song circles.", vocal_focus});
  return list;
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> list = make_presets();
  return list;
}

const Preset* find_preset(const std::string& name) {
  for (const Preset& p : presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace sy::engine
