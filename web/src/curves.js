// The page's keyframe curves: rows as typed ({id, time: '1:30', value: '6'}), checked the way
// the engine checks them (engine/settings.cc validate_curve) so that a mistake is explained
// beside its row instead of coming back as a 400, and turned into the API's curves object.
import { CURVES, CURVE_LIMITS } from './settingsControls.js';

let nextRowId = 1;

export function newRow(time, value) {
  return { id: nextRowId++, time, value: String(value) };
}

// Seconds from "m:ss", "h:mm:ss" or plain seconds ("90", "1:05.5"), as the CLI's
// --period-curve reads them; NaN for anything else.
export function parseClock(text) {
  const parts = String(text).trim().split(':');
  if (parts.length > 3) return NaN;
  let total = 0;
  for (const [i, part] of parts.entries()) {
    if (!/^(\d+\.?\d*|\.\d+)$/.test(part)) return NaN;
    const v = Number(part);
    if (i > 0 && v >= 60) return NaN;
    total = total * 60 + v;
  }
  return total;
}

// m:ss to a tenth, minutes unbounded as the engine's messages write them: 75.5 -> "1:15.5",
// 3725 -> "62:05".
export function clockText(seconds) {
  const tenths = Math.round(seconds * 10);
  const whole = Math.floor(tenths / 10);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}${tenths % 10 ? `.${tenths % 10}` : ''}`;
}

export function rangeText(spec) {
  return `${spec.min} to ${spec.max}${spec.unit && spec.unit !== '°' ? ' ' : ''}${spec.unit}`;
}

export function emptyCurves() {
  return Object.fromEntries(CURVES.map((c) => [c.key, []]));
}

// The API's (or a preset's) {period: [[seconds, value], ...]} as rows; unknown keys are dropped.
export function curvesFromApi(api) {
  const out = emptyCurves();
  for (const c of CURVES) {
    const pairs = api && Array.isArray(api[c.key]) ? api[c.key] : [];
    out[c.key] = pairs.map(([seconds, value]) => newRow(clockText(seconds), value));
  }
  return out;
}

// Only the curves in use: an empty curve leaves the fixed setting in charge.
export function curvesToApi(curves) {
  const out = {};
  for (const c of CURVES) {
    const rows = (curves && curves[c.key]) || [];
    if (rows.length) out[c.key] = rows.map((r) => [parseClock(r.time), Number(r.value)]);
  }
  return out;
}

// What is wrong with each curve: {period: {curve: 'message' | null, rows: {rowId: 'message'}}}
// for the curves with a problem. `settings.beatSync` matters: the beat sets the speed.
export function curveProblems(settings) {
  const problems = {};
  for (const c of CURVES) {
    const rows = (settings.curves && settings.curves[c.key]) || [];
    const found = { curve: null, rows: {} };
    if (c.key === 'period' && settings.beatSync && rows.length)
      found.curve = 'Switch off “Move with the beat” to use a period curve: the beat sets the speed.';
    if (rows.length > CURVE_LIMITS.maxKeyframes)
      found.curve = `At most ${CURVE_LIMITS.maxKeyframes} keyframes; remove ${rows.length - CURVE_LIMITS.maxKeyframes}.`;
    let previous = null;
    for (const row of rows) {
      const time = parseClock(row.time);
      const value = String(row.value).trim() === '' ? NaN : Number(row.value);
      let message = null;
      if (Number.isNaN(time)) message = 'Write the time as minutes:seconds, like 1:30.';
      else if (time > CURVE_LIMITS.maxSeconds) message = `The time must be at most ${clockText(CURVE_LIMITS.maxSeconds)}.`;
      else if (previous !== null && !(time > previous))
        message = `The time must come after ${clockText(previous)}, the keyframe above.`;
      else if (!Number.isFinite(value)) message = `Enter a value from ${rangeText(c)}.`;
      else if (value < c.min || value > c.max) message = `The value must be from ${rangeText(c)}.`;
      if (message) found.rows[row.id] = message;
      if (!Number.isNaN(time)) previous = time;
    }
    if (found.curve || Object.keys(found.rows).length) problems[c.key] = found;
  }
  return problems;
}

export function hasCurves(settings) {
  return CURVES.some((c) => ((settings.curves && settings.curves[c.key]) || []).length > 0);
}

// "Rotation period 10 s at 0:00, 6 s at 1:00" for each curve in use, for the song's card.
export function curvesInWords(settings) {
  return CURVES.filter((c) => ((settings.curves && settings.curves[c.key]) || []).length)
    .map((c) => {
      const unit = c.unit === '°' ? '°' : c.unit ? ` ${c.unit}` : '';
      const keys = settings.curves[c.key].map((r) => `${Number(r.value)}${unit} at ${clockText(parseClock(r.time))}`);
      return `${c.label} ${keys.join(', ')}`;
    })
    .join('; ');
}
