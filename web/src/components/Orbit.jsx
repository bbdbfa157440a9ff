import { useEffect, useRef } from 'react';
import { sourceAngle, sourceElevation, toXY, describeMotion } from '../orbit.js';

const SIZE = 200;
const C = SIZE / 2;
const R = 72;

// A top view of the listener's head with the song's left and right sources circling it.
// `getTime` returns the playback position in seconds; without it the wall clock drives the
// preview. Drawn by writing attributes in requestAnimationFrame, not by React re-renders.
export default function Orbit({ settings, getTime, className = '', label }) {
  const leftRef = useRef(null);
  const rightRef = useRef(null);
  const trailRef = useRef(null);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;

  useEffect(() => {
    const reduced =
      typeof window !== 'undefined' &&
      window.matchMedia &&
      window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const start = typeof performance !== 'undefined' ? performance.now() : 0;
    let frame = 0;
    const draw = () => {
      const s = settingsRef.current || {};
      const t = getTime ? getTime() : reduced ? 0 : (performance.now() - start) / 1000;
      const angle = sourceAngle(t, s);
      const half = ((Number(s.width) || 0) * Math.PI) / 360;
      const elev = sourceElevation(t, s);
      const scale = 1 + elev / 90;
      const place = (el, a) => {
        if (!el) return;
        const [x, y] = toXY(a, R, C, C);
        el.setAttribute('cx', x.toFixed(2));
        el.setAttribute('cy', y.toFixed(2));
        el.setAttribute('r', (9 * scale).toFixed(2));
      };
      place(leftRef.current, angle - half);
      place(rightRef.current, angle + half);
      if (trailRef.current) {
        const pts = [];
        for (let i = 0; i <= 24; i++) {
          const [x, y] = toXY(sourceAngle(t - (i / 24) * 1.2, s), R, C, C);
          pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
        }
        trailRef.current.setAttribute('points', pts.join(' '));
      }
      frame = requestAnimationFrame(draw);
    };
    if (typeof requestAnimationFrame === 'function') frame = requestAnimationFrame(draw);
    return () => {
      if (typeof cancelAnimationFrame === 'function') cancelAnimationFrame(frame);
    };
  }, [getTime]);

  return (
    <figure className={`flex flex-col items-center ${className}`}>
      <svg
        viewBox={`0 0 ${SIZE} ${SIZE}`}
        className="h-full w-full max-w-[220px]"
        role="img"
        aria-label={label || describeMotion(settings)}
      >
        <defs>
          <radialGradient id="orbit-glow" cx="50%" cy="50%" r="50%">
            <stop offset="0%" stopColor="#22d3ee" stopOpacity="0.9" />
            <stop offset="100%" stopColor="#8b5cf6" stopOpacity="0.7" />
          </radialGradient>
        </defs>
        <circle cx={C} cy={C} r={R} fill="none" stroke="#334155" strokeWidth="1.5" strokeDasharray="3 5" />
        <text x={C} y={14} textAnchor="middle" className="fill-slate-400" fontSize="10">front</text>
        <text x={C} y={SIZE - 4} textAnchor="middle" className="fill-slate-400" fontSize="10">back</text>
        <text x={8} y={C + 3} className="fill-slate-400" fontSize="10">L</text>
        <text x={SIZE - 14} y={C + 3} className="fill-slate-400" fontSize="10">R</text>
        {/* head seen from above: nose points to the front */}
        <ellipse cx={C - 27} cy={C} rx="5" ry="9" fill="#475569" />
        <ellipse cx={C + 27} cy={C} rx="5" ry="9" fill="#475569" />
        <path d={`M ${C - 7} ${C - 27} L ${C} ${C - 36} L ${C + 7} ${C - 27} Z`} fill="#64748b" />
        <circle cx={C} cy={C} r="27" fill="#1e293b" stroke="#64748b" strokeWidth="2" />
        <polyline ref={trailRef} fill="none" stroke="#8b5cf6" strokeOpacity="0.45" strokeWidth="4" strokeLinecap="round" />
        <circle ref={leftRef} cx={C} cy={C - R} r="9" fill="url(#orbit-glow)" />
        <circle ref={rightRef} cx={C} cy={C - R} r="9" fill="url(#orbit-glow)" opacity="0.75" />
      </svg>
    </figure>
  );
}
