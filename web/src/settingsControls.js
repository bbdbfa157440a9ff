// The page's sound and format controls. Their names, ranges and choices must be settings the
// API takes (pipeline/settings_schema.h); ctest web_controls_match_settings_schema checks them.
export const FORMATS = [
  // Labels short enough for the settings column (360 px at desktop widths): a cut label hides
  // what it chooses. The help line under the menu says the rest.
  { value: 'keep', label: 'Same as the file' },
  { value: 'mp3', label: 'MP3 (192 kbit/s)' },
  { value: 'm4a', label: 'M4A / AAC' },
  { value: 'opus', label: 'Opus' },
  { value: 'flac', label: 'FLAC (lossless)' },
  { value: 'wav', label: 'WAV (uncompressed)' },
  { value: 'mp4', label: 'MP4 video (AAC)' },
  { value: 'mov', label: 'MOV video (AAC)' },
  { value: 'mkv', label: 'MKV video (Opus)' },
  { value: 'webm', label: 'WebM video (Opus)' },
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

// Beat sync: a switch, and when on, how many beats make one turn (the API's beatsPerTurn;
// 0 sends it off). Whole bars of 4/4 feel most natural.
export const BEAT_SLIDER = {
  key: 'beatsPerTurn', label: 'Beats per turn', min: 4, max: 64, step: 4,
  unit: (v) => `${v} beats (${v / 4} bar${v === 4 ? '' : 's'})`,
  help: 'One full circle every this many beats, passing in front of you on the first beat of the bar.',
};

export const FADE_SLIDER = {
  key: 'fade', label: 'Fade in and out', min: 0, max: 20, step: 1,
  unit: (v) => (v === 0 ? 'off' : `${v} s`),
  help: 'The motion starts slowly from in front of you and comes to rest in front at the end.',
};

// What happens to the voice (what both channels share): the API's vocals setting.
export const VOCALS = [
  ['circle', 'Moves too'],
  ['center', 'In front'],
  ['narrow', 'Sways in front'],
];

export const DIRECTIONS = [
  ['cw', 'Clockwise'],
  ['ccw', 'Counter-clockwise'],
];

// Settings that change over time, behind "Advanced": keyframe rows sent as the API's
// curves.<key> ([[seconds, value], ...]). The value ranges are the settings' own (the schema's
// curves.* rows), so a keyframe may go past a slider's end (a period of 90 s, say).
export const CURVES = [
  { key: 'period', label: 'Rotation period', min: 1, max: 120, unit: 's' },
  { key: 'width', label: 'Stereo width', min: 0, max: 180, unit: '°' },
  { key: 'elevation', label: 'Elevation', min: -45, max: 45, unit: '°' },
  { key: 'reverb', label: 'Room', min: 0, max: 1, unit: '' },
];

// What every curve may hold: the schema's maxKeyframes and maxSeconds.
export const CURVE_LIMITS = { maxKeyframes: 100, maxSeconds: 24 * 3600 };

// The settings toApiSettings() sends (SettingsPanel.jsx): each must be an API setting.
export const API_FIELDS = [
  'preset', 'period', 'direction', 'elevation', 'width', 'reverb', 'beatsPerTurn', 'fade', 'vocals', 'format',
];
