import { useEffect, useRef } from 'react';
import { CURVES, CURVE_LIMITS } from '../settingsControls.js';
import { clockText, newRow, parseClock, rangeText } from '../curves.js';

const field =
  'w-full rounded-md border bg-slate-950 px-2 py-1 text-sm tabular-nums text-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-violet-400';
const small =
  'rounded-md px-2 py-1 text-sm text-slate-300 hover:bg-slate-800 hover:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-violet-400 disabled:opacity-40';

// One setting's keyframes: a time and a value a row, each row's problem written under it.
function Curve({ id, spec, rows, problems, fixedValue, onChange }) {
  const base = `${id}-curve-${spec.key}`;
  const curveMessage = problems && problems.curve;
  const setRow = (rowId, patch) => onChange(rows.map((r) => (r.id === rowId ? { ...r, ...patch } : r)));
  const add = () => {
    const last = rows[rows.length - 1];
    const lastTime = last ? parseClock(last.time) : NaN;
    const time = last ? clockText((Number.isNaN(lastTime) ? 0 : lastTime) + 30) : '0:00';
    onChange([...rows, newRow(time, last ? last.value : fixedValue)]);
  };
  const full = rows.length >= CURVE_LIMITS.maxKeyframes;

  return (
    <fieldset aria-describedby={`${base}-help`} data-testid={`curve-${spec.key}`}>
      <legend className="text-sm font-medium text-slate-200">{spec.label} over time</legend>
      <p id={`${base}-help`} className="text-xs text-slate-400">
        {rows.length
          ? `Smooth between keyframes, held before the first and after the last. Values ${rangeText(spec)}.`
          : `None: the ${spec.label.toLowerCase()} above applies throughout.`}
      </p>
      {curveMessage && (
        <p id={`${base}-problem`} className="mt-1 text-sm text-rose-300" data-testid="curve-problem">
          {curveMessage}
        </p>
      )}
      {rows.length > 0 && (
        <ol className="mt-2 space-y-2">
          {rows.map((row, i) => {
            const message = problems && problems.rows[row.id];
            const name = `keyframe ${i + 1} of ${spec.label.toLowerCase()}`;
            const described = message ? `${base}-${row.id}-problem` : undefined;
            const border = message ? 'border-rose-400' : 'border-slate-700';
            return (
              <li key={row.id}>
                <div className="grid grid-cols-[5rem_minmax(0,1fr)_auto] items-center gap-2">
                  <input
                    type="text"
                    inputMode="decimal"
                    aria-label={`Time of ${name} (minutes:seconds)`}
                    value={row.time}
                    placeholder="m:ss"
                    onChange={(e) => setRow(row.id, { time: e.target.value })}
                    aria-invalid={message ? true : undefined}
                    aria-describedby={described}
                    className={`${field} ${border}`}
                  />
                  <input
                    type="number"
                    step="any"
                    min={spec.min}
                    max={spec.max}
                    aria-label={`Value of ${name}${spec.unit ? ` (${spec.unit === 's' ? 'seconds' : 'degrees'})` : ''}`}
                    value={row.value}
                    onChange={(e) => setRow(row.id, { value: e.target.value })}
                    aria-invalid={message ? true : undefined}
                    aria-describedby={described}
                    className={`${field} ${border}`}
                  />
                  <button type="button" className={small} onClick={() => onChange(rows.filter((r) => r.id !== row.id))} aria-label={`Remove ${name}`}>
                    Remove
                  </button>
                </div>
                {message && (
                  <p id={described} className="mt-1 text-sm text-rose-300" data-testid="curve-problem">
                    {message}
                  </p>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <button type="button" className={`${small} mt-2 border border-slate-700`} onClick={add} disabled={full}>
        Add a keyframe<span className="sr-only"> to {spec.label.toLowerCase()}</span>
      </button>
      {full && <p className="mt-1 text-xs text-slate-400">That is the most a curve can hold ({CURVE_LIMITS.maxKeyframes}).</p>}
    </fieldset>
  );
}

// "Advanced": the motion's curves over time, closed until opened (or until a song is held back
// because a curve needs fixing: then it opens and says so).
export default function CurveEditor({ id, settings, problems, attention, open, onOpen, onChange }) {
  const alertRef = useRef(null);
  useEffect(() => {
    if (attention && alertRef.current) alertRef.current.focus();
  }, [attention]);
  const curves = settings.curves || {};
  const inUse = CURVES.filter((c) => (curves[c.key] || []).length).length;
  return (
    <details open={open} onToggle={(e) => onOpen(e.currentTarget.open)} className="rounded-xl border border-slate-800 p-3" data-testid="advanced">
      <summary className="cursor-pointer text-sm font-medium text-slate-200 focus:outline-none focus-visible:ring-2 focus-visible:ring-violet-400">
        Advanced: change the motion over time
        {inUse ? ` (${inUse} curve${inUse === 1 ? '' : 's'} in use)` : ''}
      </summary>
      <div className="mt-3 space-y-5">
        <p className="text-xs text-slate-400">
          Keyframes set a value at a time in the song (minutes:seconds); the sound moves smoothly from one to the next.
        </p>
        {attention && (
          <p ref={alertRef} tabIndex={-1} role="alert" className="rounded-lg border border-rose-500/40 bg-rose-500/10 p-2 text-sm text-rose-100">
            Nothing was sent: fix the keyframes marked below, then add the song or render again.
          </p>
        )}
        {CURVES.map((spec) => (
          <Curve
            key={spec.key}
            id={id}
            spec={spec}
            rows={curves[spec.key] || []}
            problems={problems[spec.key]}
            fixedValue={settings[spec.key]}
            onChange={(rows) => onChange({ ...curves, [spec.key]: rows })}
          />
        ))}
      </div>
    </details>
  );
}
