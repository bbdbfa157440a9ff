import { formatBytes } from '../limits.js';
import { stageInWords } from '../messages.js';
import { RETENTION_MS } from '../recentJobs.js';

function keptUntil(createdAt) {
  const d = new Date(createdAt + RETENTION_MS);
  return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
}

// Conversions this browser started earlier, until the server removes them (24 h).
export default function RecentJobs({ entries, onDelete }) {
  if (!entries.length) return null;
  return (
    <section aria-labelledby="recent-h" className="rounded-2xl border border-slate-800 bg-slate-900/40 p-5 sm:p-6">
      <h2 id="recent-h" className="text-lg font-semibold text-slate-100">
        Your recent conversions
      </h2>
      <p className="mt-1 text-sm text-slate-400">Kept on the server for 24 hours, then deleted. Only this browser knows about them.</p>
      <ul className="mt-4 divide-y divide-slate-800" data-testid="recent">
        {entries.map((e) => {
          const job = e.job;
          const result = job && job.status === 'done' ? job.result : null;
          return (
            <li key={e.id} className="flex flex-col gap-2 py-3 sm:flex-row sm:items-center sm:justify-between">
              <div className="min-w-0">
                <p className="truncate font-medium text-slate-200" title={e.filename}>{e.filename}</p>
                <p className="text-xs text-slate-400">
                  {job ? (job.status === 'failed' ? `Failed: ${job.error || 'no reason given'}` : stageInWords(job)) : 'Checking…'}
                  {result ? ` · ${formatBytes(result.bytes || 0)}` : ''} · kept until {keptUntil(e.createdAt)}
                </p>
              </div>
              <div className="flex shrink-0 gap-2">
                {result && (
                  <a
                    href={result.url}
                    download={result.filename || ''}
                    className="rounded-lg bg-slate-800 px-3 py-1.5 text-sm font-medium text-cyan-200 hover:bg-slate-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-cyan-300"
                  >
                    Download<span className="sr-only"> {result.filename}</span>
                  </a>
                )}
                <button
                  type="button"
                  onClick={() => onDelete(e)}
                  className="rounded-lg px-3 py-1.5 text-sm text-slate-400 hover:bg-rose-500/20 hover:text-rose-200 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-300"
                >
                  Delete<span className="sr-only"> {e.filename}</span>
                </button>
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
