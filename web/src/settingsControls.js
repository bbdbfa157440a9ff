// The page's sound and format controls. Their names, ranges and choices must be settings the
// API takes (pipeline/settings_schema.h); ctest web_controls_match_settings_schema checks them.
export const FORMATS = [
  { value: 'mp3', label: 'MP3 (192 kbit/s)' },
  { value: 'm4a', label: 'M4A / AAC' },
  { value: 'opus', label: 'Opus' },
  { value: 'flac', label: 'FLAC (lossless)' },
  { value: 'wav', label: 'WAV (uncompressed)' },
];

// The knobs people understand, within the engine's ranges: tests/e2e/check_settings_schema.mjs
// checks every control here against the settings schema (`surroundyou presets --schema`).
export const SLIDERS = [
  {
    key: 'period', label: 'Rotation period', min: 2, max: 60, step: 1,
    unit: (v) => `${v} s`,
    help: 'Seconds for one full circle around your head. Lower is faster; 6–12 s feels natural.',
  },
  {
    key: 'elevation', label: 'Elevation', min: -45, max: 45, step: 5,
    unit: (v) => `${v > 0 ? '+' : ''}${v}°`,
    help: 'Tilts the circle: the sound rises on one side and dips on the other. 0 keeps it at ear height.',
  },
  {
    key: 'width', label: 'Stereo width', min: 0, max: 180, step: 5,
    unit: (v) => `${v}°`,
    help: 'Angle between the song’s left and right channels as they circle together. 0 is mono.',
  },
  {
    key: 'reverb', label: 'Room', min: 0, max: 1, step: 0.05,
    unit: (v) => (v === 0 ? 'off' : `${Math.round(v * 100)}%`),
    help: 'How much room sound surrounds you. A little makes the sound feel outside your head; 0 turns it off.',
  },
];

export const DIRECTIONS = [
  ['cw', 'Clockwise'],
  ['ccw', 'Counter-clockwise'],
];

// The settings toApiSettings() sends (SettingsPanel.jsx): each must be an API setting.
export const API_FIELDS = ['preset', 'period', 'direction', 'elevation', 'width', 'reverb', 'format'];
