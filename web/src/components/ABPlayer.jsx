import { useCallback, useEffect, useId, useRef, useState } from 'react';
import Orbit from './Orbit.jsx';
import { formatDuration } from '../limits.js';

// Original and 8D on two <audio> elements; switching hands over the position (scaled when the
// 8D version has another length, as with a speed change) and keeps playing.
// `originalVolume` (0..1) plays the original at the 8D version's loudness (report.js).
export default function ABPlayer({ originalUrl, resultUrl, settings, title, originalVolume = 1, onResultError }) {
  const id = useId();
  const orig = useRef(null);
  const conv = useRef(null);
  const [which, setWhich] = useState('8d');
  const [playing, setPlaying] = useState(false);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(0);

  useEffect(() => {
    if (orig.current) orig.current.volume = Math.min(1, Math.max(0, originalVolume));
  }, [originalVolume, originalUrl]);

  const active = () => (which === 'original' && originalUrl ? orig.current : conv.current);
  const activeRef = useRef(active);
  activeRef.current = active;
  const getTime = useCallback(() => {
    const a = activeRef.current();
    return a ? a.currentTime : 0;
  }, []);

  useEffect(() => {
    const a = active();
    if (!a) return undefined;
    const onMeta = () => setDuration(Number.isFinite(a.duration) ? a.duration : 0);
    const onTime = () => setTime(a.currentTime);
    const listeners = [
      ['timeupdate', onTime],
      ['loadedmetadata', onMeta],
      ['durationchange', onMeta],
      ['play', () => setPlaying(true)],
      ['pause', () => setPlaying(false)],
      ['ended', () => setPlaying(false)],
    ];
    for (const [type, fn] of listeners) a.addEventListener(type, fn);
    onMeta();
    onTime();
    return () => {
      for (const [type, fn] of listeners) a.removeEventListener(type, fn);
    };
  });

  const choose = (next) => {
    if (next === which || (next === 'original' && !originalUrl)) return;
    const from = active();
    const to = next === 'original' ? orig.current : conv.current;
    if (from && to) {
      const scale =
        Number.isFinite(from.duration) && Number.isFinite(to.duration) && from.duration > 0
          ? to.duration / from.duration
          : 1;
      try {
        to.currentTime = from.currentTime * scale;
      } catch (e) {
        // not seekable yet: it starts from the beginning
      }
      const wasPlaying = !from.paused;
      from.pause();
      if (wasPlaying) {
        const p = to.play();
        if (p && p.catch) p.catch(() => {});
      }
    }
    setWhich(next);
  };

  const toggle = () => {
    const a = active();
    if (!a) return;
    if (a.paused) {
      const p = a.play();
      if (p && p.catch) p.catch(() => setPlaying(false));
    } else {
      a.pause();
    }
  };

  return (
    <div className="rounded-xl border border-slate-800 bg-slate-950/60 p-4">
      <audio ref={orig} src={originalUrl || undefined} preload="metadata" data-testid="audio-original" data-volume={originalVolume.toFixed(4)} />
      <audio ref={conv} src={resultUrl} preload="metadata" data-testid="audio-8d" onError={onResultError} />
      <div className="grid items-center gap-4 sm:grid-cols-[1fr_160px]">
        <div>
          <div role="radiogroup" aria-label={`Listen to ${title}`} className="inline-flex rounded-lg border border-slate-700 p-0.5">
            {[
              ['original', 'Original'],
              ['8d', '8D'],
            ].map(([value, text]) => (
              <button
                key={value}
                type="button"
                role="radio"
                aria-checked={which === value}
                disabled={value === 'original' && !originalUrl}
                onClick={() => choose(value)}
                className={`rounded-md px-4 py-1.5 text-sm font-semibold focus:outline-none focus-visible:ring-2 focus-visible:ring-cyan-300 disabled:cursor-not-allowed disabled:opacity-40 ${
                  which === value ? 'bg-cyan-400 text-slate-950' : 'text-slate-300 hover:text-white'
                }`}
              >
                {text}
              </button>
            ))}
          </div>
          <div className="mt-3 flex items-center gap-3">
            <button
              type="button"
              onClick={toggle}
              aria-label={playing ? 'Pause' : 'Play'}
              data-testid="play"
              className="flex h-11 w-11 shrink-0 items-center justify-center rounded-full bg-violet-500 text-white hover:bg-violet-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-cyan-300 focus-visible:ring-offset-2 focus-visible:ring-offset-slate-950"
            >
              {playing ? (
                <svg viewBox="0 0 20 20" className="h-5 w-5" aria-hidden="true"><path fill="currentColor" d="M5 4h3v12H5zM12 4h3v12h-3z" /></svg>
              ) : (
                <svg viewBox="0 0 20 20" className="h-5 w-5" aria-hidden="true"><path fill="currentColor" d="M6 4l10 6-10 6z" /></svg>
              )}
            </button>
            <label htmlFor={`${id}-seek`} className="sr-only">Position</label>
            <input
              id={`${id}-seek`}
              type="range"
              min={0}
              max={duration || 0}
              step={0.1}
              value={Math.min(time, duration || 0)}
              onChange={(e) => {
                const a = active();
                if (a) a.currentTime = Number(e.target.value);
                setTime(Number(e.target.value));
              }}
              aria-valuetext={`${formatDuration(time)} of ${formatDuration(duration)}`}
              className="w-full accent-cyan-400"
            />
            <span className="shrink-0 text-xs tabular-nums text-slate-400" data-testid="player-time">
              {formatDuration(time)} / {formatDuration(duration)}
            </span>
          </div>
        </div>
        <Orbit
          settings={which === '8d' ? settings : { trajectory: 'circle', period: 1e9, width: 60, elevation: 0 }}
          getTime={getTime}
          className="mx-auto h-[150px] w-[150px]"
          label={which === '8d' ? undefined : 'The original stays in front of you, left and right.'}
        />
      </div>
    </div>
  );
}
