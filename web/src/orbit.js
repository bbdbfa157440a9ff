// Where the sound is around the head at time t, computed from the settings the same way the
// engine moves it (engine/trajectory.h): one turn per period, clockwise seen from above
// (front, right, back, left) or counter-clockwise. Angles in radians clockwise from the front.
export function sourceAngle(t, { period = 8, direction = 'cw', trajectory = 'circle' } = {}) {
  const p = Math.max(0.1, Number(period) || 8);
  const phase = (2 * Math.PI * t) / p;
  if (trajectory === 'legacy') {
    // The old converter's left/right drift, drawn as a swing between the ears.
    return (Math.PI / 2) * Math.sin(phase);
  }
  if (trajectory === 'figure8') {
    return (Math.PI / 2) * Math.sin(phase) + (Math.PI / 4) * Math.sin(2 * phase);
  }
  return direction === 'ccw' ? -phase : phase;
}

// Elevation in degrees: the tilted orbit rises on one side and falls on the other.
export function sourceElevation(t, settings = {}) {
  const e = Number(settings.elevation) || 0;
  return e * Math.sin(sourceAngle(t, settings));
}

// Screen position on a top view with the nose up: x right, y down.
export function toXY(angle, radius, cx, cy) {
  return [cx + radius * Math.sin(angle), cy - radius * Math.cos(angle)];
}

export function describeMotion(settings = {}) {
  const period = Number(settings.period) || 8;
  if (settings.trajectory === 'legacy') return `The sound drifts left and right about every ${period / 4} seconds.`;
  if (settings.trajectory === 'figure8') return `The sound loops around each ear in a figure eight every ${period} seconds.`;
  const dir = settings.direction === 'ccw' ? 'counter-clockwise' : 'clockwise';
  return `The sound circles your head ${dir}, one full turn every ${period} seconds.`;
}
