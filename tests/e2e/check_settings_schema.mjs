// The web page's controls against the settings schema the binary enforces: every control
// names an API setting, its range lies inside the setting's, its choices are the setting's.
// Usage: node check_settings_schema.mjs --binary build/surroundyou --web-dir web
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const schema = JSON.parse(execFileSync(args.binary, ['presets', '--schema'], { encoding: 'utf8' }));
const byName = new Map(schema.map((s) => [s.name, s]));
const controls = await import(pathToFileURL(path.resolve(args['web-dir'], 'src/settingsControls.js')).href);

const problems = [];
const setting = (name, where) => {
  const s = byName.get(name);
  if (!s) problems.push(`${where}: '${name}' is not a setting the API takes`);
  return s;
};

// Beat sync and fade are sliders of their own (shown apart from the main ones).
for (const slider of [...controls.SLIDERS, controls.BEAT_SLIDER, controls.FADE_SLIDER].filter(Boolean)) {
  const s = setting(slider.key, `slider ${slider.label}`);
  if (!s) continue;
  const whole = Number.isInteger(slider.min) && Number.isInteger(slider.step);
  if (s.type !== 'number' && !(s.type === 'integer' && whole))
    problems.push(`slider ${slider.key}: the setting is a ${s.type}, not a number`);
  if (slider.min < s.minimum || slider.max > s.maximum)
    problems.push(`slider ${slider.key}: ${slider.min}..${slider.max} leaves the setting's ${s.minimum}..${s.maximum}`);
  if (!(slider.step > 0) || slider.step > slider.max - slider.min)
    problems.push(`slider ${slider.key}: step ${slider.step} does not fit ${slider.min}..${slider.max}`);
}
const choice = (name, values, where) => {
  const s = setting(name, where);
  if (!s) return;
  const missing = values.filter((v) => !(s.enum || []).includes(v));
  if (missing.length) problems.push(`${where}: ${missing.join(', ')} not among ${JSON.stringify(s.enum)}`);
  return s;
};
const format = choice('format', controls.FORMATS.map((f) => f.value), 'format menu');
if (format && format.enum.length !== controls.FORMATS.length)
  problems.push(`format menu offers ${controls.FORMATS.length} formats, the service writes ${format.enum.length}`);
choice('direction', controls.DIRECTIONS.map(([v]) => v), 'direction buttons');
if (controls.VOCALS) choice('vocals', controls.VOCALS.map(([v]) => v), 'voice buttons');
for (const field of controls.API_FIELDS) setting(field, 'toApiSettings');

// The keyframe rows under "Advanced": each is a curve the API takes (curves.<key>), its values
// stay inside the setting's range and its limits inside the schema's.
for (const curve of controls.CURVES || []) {
  const s = setting(`curves.${curve.key}`, `curve ${curve.label}`);
  if (!s) continue;
  if (s.type !== 'curve') problems.push(`curve ${curve.key}: the setting is a ${s.type}, not a curve`);
  if (!(curve.min >= s.minimum && curve.max <= s.maximum && curve.min < curve.max))
    problems.push(`curve ${curve.key}: ${curve.min}..${curve.max} leaves the setting's ${s.minimum}..${s.maximum}`);
  const limits = controls.CURVE_LIMITS || {};
  if (!(limits.maxKeyframes >= 1 && limits.maxKeyframes <= s.maxKeyframes))
    problems.push(`curve ${curve.key}: ${limits.maxKeyframes} keyframes where the setting takes 1..${s.maxKeyframes}`);
  if (!(limits.maxSeconds > 0 && limits.maxSeconds <= s.maxSeconds))
    problems.push(`curve ${curve.key}: times up to ${limits.maxSeconds} s where the setting takes up to ${s.maxSeconds} s`);
}

if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`the page's ${controls.SLIDERS.length} sliders, ${(controls.CURVES || []).length} curves, ` +
            `${controls.FORMATS.length} formats and ${controls.API_FIELDS.length} API fields match the settings schema (${schema.length} settings)`);
