export default function ProgressBar({ value, label, tone = 'violet' }) {
  const pct = Math.max(0, Math.min(100, Math.round((value || 0) * 100)));
  const fill = tone === 'cyan' ? 'from-cyan-400 to-sky-400' : 'from-violet-500 to-cyan-400';
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      className="h-2 w-full overflow-hidden rounded-full bg-slate-800"
    >
      <div className={`h-full rounded-full bg-gradient-to-r ${fill} transition-[width] duration-300`} style={{ width: `${pct}%` }} />
    </div>
  );
}
