import { useEffect, useId, useState } from 'react';
import CurveEditor from './CurveEditor.jsx';
import Orbit from './Orbit.jsx';
import { describeMotion } from '../orbit.js';
import { curvesFromApi, curvesInWords, curvesToApi, hasCurves } from '../curves.js';
import { API_FIELDS, BEAT_SLIDER, DIRECTIONS, FADE_SLIDER, FORMATS, SLIDERS, VOCALS } from '../settingsControls.js';

export { FORMATS };

// Used until GET /api/v1/presets answers (and if it never does): the engine's classic values.
export const FALLBACK_PRESETS = [
  {
    name: 'classic',
    description: 'The classic 8D sound: one smooth circle every 8 seconds with a small room.',
    settings: { trajectory: 'circle', period: 8, direction: 'cw', elevation: 0, width: 60, reverb: 0.25 },
  },
];

export function settingsFromPreset(preset) {
  const s = preset.settings || {};
  return {
    preset: preset.name,
    trajectory: s.trajectory || 'circle',
    period: s.period ?? 8,
    direction: s.direction || 'cw',
    elevation: s.elevation ?? 0,
    width: s.width ?? 60,
    reverb: s.reverb ?? 0.25,
    beatSync: (s.beatsPerTurn ?? 0) > 0,
    beatsPerTurn: (s.beatsPerTurn ?? 0) > 0 ? s.beatsPerTurn : 16,
    fade: s.fade ?? 0,
    vocals: s.vocals || 'circle',
    curves: curvesFromApi(s.curves),
    // The file's own format: an MP3 comes back MP3, a video comes back a video.
    format: 'keep',
  };
}

// What the API takes (docs/API.md): the preset plus explicit overrides.
export function toApiSettings(s) {
  const numeric = new Set([...SLIDERS, FADE_SLIDER].map((x) => x.key));
  const api = Object.fromEntries(API_FIELDS.map((k) => [k, numeric.has(k) ? Number(s[k] ?? 0) : s[k]]));
  api.beatsPerTurn = s.beatSync ? Number(s.beatsPerTurn) : 0;
  api.vocals = s.vocals || 'circle';
  const curves = curvesToApi(s.curves);
  if (Object.keys(curves).length) api.curves = curves;
  return api;
}

function Slider({ id, spec, value, onChange }) {
  return (
    <div>
      <div className="flex items-baseline justify-between">
        <label htmlFor={`${id}-${spec.key}`} className="text-sm font-medium text-slate-200">
          {spec.label}
        </label>
        <output htmlFor={`${id}-${spec.key}`} className="text-sm tabular-nums text-cyan-300">
          {spec.unit(Number(value))}
        </output>
      </div>
      <input
        id={`${id}-${spec.key}`}
        type="range"
        min={spec.min}
        max={spec.max}
        step={spec.step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
        aria-describedby={`${id}-${spec.key}-help`}
        aria-valuetext={spec.unit(Number(value))}
        className="mt-1 w-full accent-violet-400"
      />
      <p id={`${id}-${spec.key}-help`} className="text-sm text-slate-400">
        {spec.help}
      </p>
    </div>
  );
}

// A few exclusive choices as one segmented row of radio buttons (arrow keys move between them).
function Choice({ name, legend, options, value, onChange, help }) {
  return (
    <fieldset>
      <legend className="text-sm font-medium text-slate-200">{legend}</legend>
      <div className="mt-1 inline-flex rounded-lg border border-slate-700 p-0.5">
        {options.map(([option, text]) => (
          <label
            key={option}
            className={`cursor-pointer rounded-md px-3 py-1.5 text-sm focus-within:ring-2 focus-within:ring-violet-400 ${
              value === option ? 'bg-violet-500 text-white' : 'text-slate-300 hover:text-white'
            }`}
          >
            <input type="radio" name={name} value={option} checked={value === option} onChange={() => onChange(option)} className="sr-only" />
            {text}
          </label>
        ))}
      </div>
      <p className="mt-1 text-sm text-slate-400">{help}</p>
    </fieldset>
  );
}

// `problems` are the curves' (curveProblems); `attention` counts the times a song was held back
// because of them, and opens "Advanced" to show why.
export default function SettingsPanel({ presets, settings, onChange, problems = {}, attention = 0 }) {
  const id = useId();
  const [advancedOpen, setAdvancedOpen] = useState(false);
  useEffect(() => {
    if (attention > 0) setAdvancedOpen(true);
  }, [attention]);
  const current = presets.find((p) => p.name === settings.preset);
  const base = current ? settingsFromPreset(current) : null;
  const changed = base && SLIDERS.some((s) => Number(base[s.key]) !== Number(settings[s.key]));
  const set = (patch) => onChange({ ...settings, ...patch });
  const curvesUsed = curvesInWords(settings);

  return (
    <section aria-labelledby={`${id}-h`} className="rounded-2xl border border-slate-800 bg-slate-900/60 p-5 sm:p-6">
      <h2 id={`${id}-h`} className="text-lg font-semibold text-slate-100">Sound</h2>
      <p className="mt-1 text-sm text-slate-400">Applies to the songs you add next, and to “Preview 30 s” and “Render again” on a song.</p>
      <div className="mt-4 flex flex-col gap-6">
        <div className="space-y-5">
          <div>
            <label htmlFor={`${id}-preset`} className="block text-sm font-medium text-slate-200">
              Preset
            </label>
            <select
              id={`${id}-preset`}
              value={settings.preset}
              onChange={(e) => {
                const p = presets.find((x) => x.name === e.target.value);
                if (!p) return;
                // Curves of one's own stay, unless the preset brings its own.
                const next = settingsFromPreset(p);
                onChange({ ...next, format: settings.format, curves: hasCurves(next) ? next.curves : settings.curves });
              }}
              className="mt-1 w-full rounded-lg border border-slate-700 bg-slate-950 px-3 py-2 text-slate-100 focus:border-violet-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-violet-400"
              aria-describedby={`${id}-preset-help`}
            >
              {presets.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
            <p id={`${id}-preset-help`} className="mt-1 text-sm text-slate-400">
              {current ? current.description : ''}
              {changed ? ' Adjusted below.' : ''}
            </p>
          </div>

          {settings.trajectory === 'circle' && (
            <Choice
              name={`${id}-direction`}
              legend="Direction"
              options={DIRECTIONS}
              value={settings.direction}
              onChange={(direction) => set({ direction })}
              help="Seen from above: front, right, back, left is clockwise."
            />
          )}

          {SLIDERS.map((spec) => (
            <Slider key={spec.key} id={id} spec={spec} value={settings[spec.key]} onChange={(v) => set({ [spec.key]: v })} />
          ))}

          <div>
            <label className="flex items-center gap-2 text-sm font-medium text-slate-200">
              <input
                type="checkbox"
                checked={Boolean(settings.beatSync)}
                onChange={(e) => set({ beatSync: e.target.checked })}
                className="accent-violet-400"
              />
              Move with the beat
            </label>
            <p className="mt-1 text-sm text-slate-400">
              The tempo is found in the song; without a clear beat it turns at the rotation period.
            </p>
          </div>
          {settings.beatSync && (
            <Slider id={id} spec={BEAT_SLIDER} value={settings.beatsPerTurn ?? 16} onChange={(v) => set({ beatsPerTurn: v })} />
          )}
          <Slider id={id} spec={FADE_SLIDER} value={settings.fade ?? 0} onChange={(v) => set({ fade: v })} />

          <Choice
            name={`${id}-vocals`}
            legend="Voice"
            options={VOCALS}
            value={settings.vocals || 'circle'}
            onChange={(vocals) => set({ vocals })}
            help="What both channels share (usually the singer) can stay in front while the rest circles."
          />

          <CurveEditor
            id={id}
            settings={settings}
            problems={problems}
            attention={Object.keys(problems).length ? attention : 0}
            open={advancedOpen}
            onOpen={setAdvancedOpen}
            onChange={(curves) => set({ curves })}
          />

          <div>
            <label htmlFor={`${id}-format`} className="block text-sm font-medium text-slate-200">
              Download as
            </label>
            <select
              id={`${id}-format`}
              value={settings.format}
              onChange={(e) => set({ format: e.target.value })}
              aria-describedby={`${id}-format-help`}
              className="mt-1 w-full rounded-lg border border-slate-700 bg-slate-950 px-3 py-2 text-slate-100 focus:border-violet-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-violet-400"
            >
              {FORMATS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
            <p id={`${id}-format-help`} className="mt-1 text-sm text-slate-400">
              A video format copies the picture; “Same as the file” keeps a video a video.
            </p>
          </div>
        </div>
        <div className="order-first flex flex-col items-center">
          <Orbit settings={settings} className="h-[170px] w-[170px]" />
          <p className="mt-2 text-center text-xs text-slate-400" aria-hidden="true">
            {describeMotion(settings)}
            {curvesUsed ? ` Over time: ${curvesUsed}.` : ''}
          </p>
        </div>
      </div>
    </section>
  );
}
